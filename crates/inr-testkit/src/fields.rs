//! Small analytic data sets written as VTK files, for the encoder's and the
//! command line's tests.

use std::path::Path;

use inr_vtk::vti::{write_image_data, Association, Values, VtiArray};

/// 24 x 20 x 16 points of smooth sin/cos products: a scalar and a 3-vector
/// at the points, a scalar at the cells.
pub fn write_analytic(path: &Path) {
    let dims = [24usize, 20, 16];
    let origin = [-1.0, 0.5, 2.0];
    let spacing = [0.1, 0.12, 0.15];
    let (mut scalar, mut vector, mut cells) = (Vec::new(), Vec::new(), Vec::new());
    let field = |x: f64, y: f64, z: f64| {
        [
            (2.0 * x).sin() * (1.5 * y).cos() + 0.5 * z.cos(),
            (x + y).cos(),
            (y * z).sin() * 3.0,
            1.0 + x * 0.5 + (z * 2.0).sin(),
        ]
    };
    for k in 0..dims[2] {
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                let p = [0, 1, 2].map(|a| origin[a] + [i, j, k][a] as f64 * spacing[a]);
                let f = field(p[0], p[1], p[2]);
                scalar.push(f[0] as f32);
                vector.extend(f[1..].iter().map(|&v| v as f32));
                if i + 1 < dims[0] && j + 1 < dims[1] && k + 1 < dims[2] {
                    let c = [0, 1, 2].map(|a| p[a] + 0.5 * spacing[a]);
                    cells.push((100.0 * field(c[0], c[1], c[2])[0]) as f32);
                }
            }
        }
    }
    let extent = [0, 23, 0, 19, 0, 15];
    let arrays = [
        VtiArray {
            name: "scalar",
            components: 1,
            association: Association::Point,
            values: Values::F32(&scalar),
        },
        VtiArray {
            name: "vector",
            components: 3,
            association: Association::Point,
            values: Values::F32(&vector),
        },
        VtiArray {
            name: "cell_scalar",
            components: 1,
            association: Association::Cell,
            values: Values::F32(&cells),
        },
    ];
    write_image_data(path, extent, origin, spacing, &arrays).unwrap();
}

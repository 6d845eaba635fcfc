//! VTK cell types (vtkCellType.h), the codes meshes and the file store.

/// The cell types this version reads: linear and quadratic, not polyhedra
/// (whose connectivity is a face stream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CellType {
    Vertex = 1,
    PolyVertex = 2,
    Line = 3,
    PolyLine = 4,
    Triangle = 5,
    TriangleStrip = 6,
    Polygon = 7,
    Pixel = 8,
    Quad = 9,
    Tetra = 10,
    Voxel = 11,
    Hexahedron = 12,
    Wedge = 13,
    Pyramid = 14,
    QuadraticEdge = 21,
    QuadraticTriangle = 22,
    QuadraticQuad = 23,
    QuadraticTetra = 24,
    QuadraticHexahedron = 25,
    QuadraticWedge = 26,
    QuadraticPyramid = 27,
}

impl CellType {
    /// The type of a VTK code; `None` for codes this version does not read.
    pub fn from_code(code: u8) -> Option<CellType> {
        use CellType::*;
        Some(match code {
            1 => Vertex,
            2 => PolyVertex,
            3 => Line,
            4 => PolyLine,
            5 => Triangle,
            6 => TriangleStrip,
            7 => Polygon,
            8 => Pixel,
            9 => Quad,
            10 => Tetra,
            11 => Voxel,
            12 => Hexahedron,
            13 => Wedge,
            14 => Pyramid,
            21 => QuadraticEdge,
            22 => QuadraticTriangle,
            23 => QuadraticQuad,
            24 => QuadraticTetra,
            25 => QuadraticHexahedron,
            26 => QuadraticWedge,
            27 => QuadraticPyramid,
            _ => return None,
        })
    }

    /// The VTK code.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// Points per cell; `None` for the types with any number.
    pub fn points(self) -> Option<usize> {
        use CellType::*;
        match self {
            PolyVertex | PolyLine | TriangleStrip | Polygon => None,
            Vertex => Some(1),
            Line => Some(2),
            Triangle | QuadraticEdge => Some(3),
            Pixel | Quad | Tetra => Some(4),
            Pyramid => Some(5),
            Wedge | QuadraticTriangle => Some(6),
            Voxel | Hexahedron | QuadraticQuad => Some(8),
            QuadraticTetra => Some(10),
            QuadraticPyramid => Some(13),
            QuadraticWedge => Some(15),
            QuadraticHexahedron => Some(20),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_others_are_refused() {
        let known: Vec<u8> = (0..=255u8)
            .filter(|&c| CellType::from_code(c).is_some())
            .collect();
        assert_eq!(
            known,
            [(1..=14).collect::<Vec<u8>>(), (21..=27).collect()].concat()
        );
        for c in known {
            assert_eq!(CellType::from_code(c).unwrap().code(), c);
        }
        assert_eq!(CellType::QuadraticHexahedron.points(), Some(20));
        assert_eq!(CellType::Polygon.points(), None);
    }
}

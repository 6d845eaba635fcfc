//! Training samples from a VTK XML series: the coordinates of every point
//! (point arrays) and cell center (cell arrays), time as a fourth coordinate
//! when there is more than one step, and targets scaled to [-1, 1] by each
//! component's range over all steps.
//!
//! Image and rectilinear grids give structured sites (products of axes);
//! unstructured grids give their nodes and cell centroids, the mesh shared
//! by every step.

use std::sync::Arc;

use inr_core::error::{Error, Result};
use inr_core::format::Association;
use inr_core::mesh::Mesh;
use inr_core::model::normalization::{self, InputAffine};
use inr_vtk::vtkxml::{Grid, Series};

/// A variable as the file will describe it.
#[derive(Clone, Debug, PartialEq)]
pub struct VariableInfo {
    pub name: String,
    pub components: usize,
    pub association: Association,
    /// Per component, [min, max] over all steps.
    pub range: Vec<[f64; 2]>,
    /// First output column of the network.
    pub column: usize,
}

impl VariableInfo {
    /// max - min over all its components (the range PSNR and relative
    /// bounds refer to).
    pub fn span(&self) -> f64 {
        span(&self.range)
    }
}

/// max - min over all of `range`'s `[min, max]` pairs.
pub fn span(range: &[[f64; 2]]) -> f64 {
    let lo = range.iter().map(|r| r[0]).fold(f64::INFINITY, f64::min);
    let hi = range.iter().map(|r| r[1]).fold(f64::NEG_INFINITY, f64::max);
    hi - lo
}

/// Where the values of one association sit.
#[derive(Clone, Debug)]
pub enum Sites {
    /// The product of three axes, x fastest: grid points or cell centers.
    Axes([Vec<f64>; 3]),
    /// Explicit x, y, z triples: mesh nodes or cell centroids (shared by
    /// every step of a series).
    Points(Arc<[f64]>),
}

/// The samples of one time step and one association: the sites and the
/// targets of the variables attached there.
#[derive(Clone, Debug)]
pub struct Part {
    pub time: f64,
    pub association: Association,
    pub sites: Sites,
    /// Indices into [`Samples::variables`] of the variables in `targets`.
    pub variables: Vec<usize>,
    /// Per site, the scaled components of `variables` in order.
    pub targets: Vec<f32>,
}

impl Sites {
    /// Number of sites.
    pub fn len(&self) -> usize {
        match self {
            Sites::Axes(axes) => axes.iter().map(Vec::len).product(),
            Sites::Points(p) => p.len() / 3,
        }
    }

    /// True when there are no sites.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Part {
    /// Number of sites.
    pub fn len(&self) -> usize {
        self.sites.len()
    }

    /// True when the part has no sites.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Components per site in `targets`.
    pub fn width(&self, vars: &[VariableInfo]) -> usize {
        self.variables.iter().map(|&v| vars[v].components).sum()
    }

    /// The domain coordinates (x, y, z) of every site (x fastest on axes).
    pub fn coordinates(&self) -> Vec<f64> {
        let [x, y, z] = match &self.sites {
            Sites::Points(p) => return p.to_vec(),
            Sites::Axes(axes) => axes,
        };
        let mut out = Vec::with_capacity(3 * self.len());
        for &zc in z {
            for &yc in y {
                for &xc in x {
                    out.extend([xc, yc, zc]);
                }
            }
        }
        out
    }
}

/// Everything the trainer and the exporter need to know about the data.
#[derive(Clone, Debug)]
pub struct Samples {
    /// The grid of the first step (the file's domain).
    pub grid: Grid,
    /// Step times; more than one means the network takes t as 4th input.
    pub times: Vec<f64>,
    pub variables: Vec<VariableInfo>,
    pub parts: Vec<Part>,
    /// Per input, [lo, hi] over the point coordinates (and times).
    pub bounds: Vec<[f64; 2]>,
}

impl Samples {
    /// Network inputs: 3, or 4 with time.
    pub fn inputs(&self) -> usize {
        self.bounds.len()
    }

    /// Network outputs: the sum of the variables' components.
    pub fn outputs(&self) -> usize {
        self.variables.iter().map(|v| v.components).sum()
    }

    /// The input normalization stored in the file, for a first sine layer
    /// of frequency `omega` along the spatial axes (time keeps the
    /// network's [`W0`](super::siren::W0)).
    pub fn input_affine(&self, omega: f64) -> InputAffine {
        self.input_affine_on(&self.bounds, omega)
    }

    /// The same scales, centered on `part`'s box (its spatial entries):
    /// the normalization of an MC-INR cluster's network.
    pub fn input_affine_on(&self, part: &[[f64; 2]], omega: f64) -> InputAffine {
        let affine = normalization::centered_on(&self.bounds, part);
        normalization::scaled(affine, omega / super::siren::W0, 3)
    }

    /// Point coordinates along each axis of a structured grid; `None` for a
    /// mesh.
    pub fn point_axes(&self) -> Option<[Vec<f64>; 3]> {
        point_axes(&self.grid)
    }

    /// The mesh of unstructured samples.
    pub fn mesh(&self) -> Option<&Mesh> {
        match &self.grid {
            Grid::Unstructured(mesh) => Some(mesh),
            _ => None,
        }
    }

    /// Total number of sites over all parts.
    pub fn num_sites(&self) -> usize {
        self.parts.iter().map(Part::len).sum()
    }

    /// Bytes the data takes as float32 values: the reference for the
    /// compression ratio.
    pub fn raw_f32_bytes(&self) -> u64 {
        self.parts.iter().map(|p| p.targets.len() as u64 * 4).sum()
    }

    /// Every site's scaled targets at the network's output columns, one
    /// row of `outputs()` per site (sites of all parts in order), and a mask
    /// of the same shape: 1 where the part has that variable, else 0 (the
    /// target is then 0).
    pub fn dense_targets(&self) -> (Vec<f32>, Vec<f32>) {
        let c = self.outputs();
        let n = self.num_sites();
        let (mut targets, mut mask) = (vec![0f32; n * c], vec![0f32; n * c]);
        let mut row = 0;
        for part in &self.parts {
            let width = part.width(&self.variables);
            let columns: Vec<usize> = part
                .variables
                .iter()
                .flat_map(|&v| {
                    let var = &self.variables[v];
                    var.column..var.column + var.components
                })
                .collect();
            for (s, t) in part.targets.chunks_exact(width).enumerate() {
                let base = (row + s) * c;
                for (&col, &y) in columns.iter().zip(t) {
                    targets[base + col] = y;
                    mask[base + col] = 1.0;
                }
            }
            row += part.len();
        }
        (targets, mask)
    }

    /// Scaled value back to the variable's units.
    pub fn unscale(&self, variable: usize, component: usize, y: f64) -> f64 {
        let [lo, hi] = self.variables[variable].range[component];
        lo + (y + 1.0) * 0.5 * (hi - lo)
    }

    /// Builds the samples of a series. `names` selects variables (empty: all
    /// arrays of the first step).
    pub fn from_series(series: &Series, names: &[String]) -> Result<Samples> {
        let (_, first) = series
            .steps
            .first()
            .ok_or_else(|| Error::InvalidArgument("the series has no time steps".into()))?;
        let path = first.path.display();
        let site_sets = SiteSets::of(&first.grid)
            .ok_or_else(|| Error::Invalid(format!("{path}: the grid has no points")))?;
        if let Grid::Unstructured(mesh) = &first.grid {
            mesh.validate(mesh.num_points() as u64, mesh.num_cells() as u64)
                .map_err(|e| Error::Unsupported(format!("{path}: {e}")))?;
        }
        let chosen: Vec<&inr_vtk::vtkxml::Array> = if names.is_empty() {
            first.arrays.iter().collect()
        } else {
            names
                .iter()
                .map(|n| {
                    first.array(n).ok_or_else(|| {
                        Error::InvalidArgument(format!("{path} has no array named {n:?}"))
                    })
                })
                .collect::<Result<_>>()?
        };
        if chosen.is_empty() {
            return Err(Error::InvalidArgument(format!("{path} has no data arrays")));
        }
        let mut variables = Vec::new();
        let mut column = 0;
        for a in &chosen {
            if variables.iter().any(|v: &VariableInfo| v.name == a.name) {
                return Err(Error::Unsupported(format!(
                    "{path}: two arrays named {:?}",
                    a.name
                )));
            }
            variables.push(VariableInfo {
                name: a.name.clone(),
                components: a.components,
                association: a.association,
                range: vec![[f64::INFINITY, f64::NEG_INFINITY]; a.components],
                column,
            });
            column += a.components;
        }
        // Ranges over all steps (every step must have the same grid and arrays).
        for (_, ds) in &series.steps {
            if ds.grid != first.grid {
                return Err(Error::Unsupported(format!(
                    "{}: the grid differs from the first step's",
                    ds.path.display()
                )));
            }
            for v in &mut variables {
                let a = ds
                    .array(&v.name)
                    .filter(|a| a.components == v.components && a.association == v.association)
                    .ok_or_else(|| {
                        Error::Invalid(format!(
                            "{}: no {:?} array like the first step's",
                            ds.path.display(),
                            v.name
                        ))
                    })?;
                for (i, &x) in a.values.iter().enumerate() {
                    if !x.is_finite() {
                        return Err(Error::Unsupported(format!(
                            "{}: array {:?} holds non-finite values",
                            ds.path.display(),
                            v.name
                        )));
                    }
                    let r = &mut v.range[i % v.components];
                    r[0] = r[0].min(x);
                    r[1] = r[1].max(x);
                }
            }
        }
        let mut parts = Vec::new();
        for (t, ds) in &series.steps {
            for association in [Association::Point, Association::Cell] {
                let vars: Vec<usize> = (0..variables.len())
                    .filter(|&v| variables[v].association == association)
                    .collect();
                if vars.is_empty() {
                    continue;
                }
                let sites = site_sets.sites(association);
                let n = sites.len();
                let arrays: Vec<&[f64]> = vars
                    .iter()
                    .map(|&v| {
                        ds.array(&variables[v].name)
                            .map_or(&[][..], |a| a.values.as_slice())
                    })
                    .collect();
                for (&v, a) in vars.iter().zip(&arrays) {
                    if a.len() != n * variables[v].components {
                        return Err(Error::Invalid(format!(
                            "{}: array {:?} holds {} values for {n} sites",
                            ds.path.display(),
                            variables[v].name,
                            a.len()
                        )));
                    }
                }
                let width: usize = vars.iter().map(|&v| variables[v].components).sum();
                let mut targets = Vec::with_capacity(n * width);
                for s in 0..n {
                    for (&v, a) in vars.iter().zip(&arrays) {
                        let var = &variables[v];
                        for c in 0..var.components {
                            targets.push(scale(a[s * var.components + c], var.range[c]));
                        }
                    }
                }
                parts.push(Part {
                    time: *t,
                    association,
                    sites,
                    variables: vars,
                    targets,
                });
            }
        }
        let times = series.times();
        let mut bounds = site_sets.bounds.to_vec();
        if times.len() > 1 {
            bounds.push([times[0], times[times.len() - 1]]);
        }
        Ok(Samples {
            grid: first.grid.clone(),
            times,
            variables,
            parts,
            bounds,
        })
    }
}

/// The sites of point and of cell variables on a grid, and the bounds of
/// its points (the input normalization's box).
struct SiteSets {
    points: Sites,
    cells: Sites,
    bounds: [[f64; 2]; 3],
}

impl SiteSets {
    /// `None` for a grid without points.
    fn of(grid: &Grid) -> Option<SiteSets> {
        if let Some(axes) = point_axes(grid) {
            let bounds = std::array::from_fn(|a| [axes[a][0], axes[a][axes[a].len() - 1]]);
            let cells = Sites::Axes(axes.clone().map(|a| cell_centers(&a)));
            return Some(SiteSets {
                points: Sites::Axes(axes),
                cells,
                bounds,
            });
        }
        let Grid::Unstructured(mesh) = grid else {
            return None;
        };
        if mesh.num_points() == 0 {
            return None;
        }
        let b = mesh.bounds();
        Some(SiteSets {
            points: Sites::Points(mesh.points.clone().into()),
            cells: Sites::Points(mesh.cell_centers().into()),
            bounds: std::array::from_fn(|a| [b[2 * a], b[2 * a + 1]]),
        })
    }

    fn sites(&self, association: Association) -> Sites {
        match association {
            Association::Point => self.points.clone(),
            Association::Cell => self.cells.clone(),
        }
    }
}

/// `x` in `[lo, hi]` to [-1, 1] (0 for a constant component).
fn scale(x: f64, [lo, hi]: [f64; 2]) -> f32 {
    if hi > lo {
        (2.0 * (x - lo) / (hi - lo) - 1.0) as f32
    } else {
        0.0
    }
}

/// Point coordinates along each axis of a structured grid, increasing.
fn point_axes(grid: &Grid) -> Option<[Vec<f64>; 3]> {
    match grid {
        Grid::Image {
            extent,
            origin,
            spacing,
        } => Some(std::array::from_fn(|a| {
            (extent[2 * a]..=extent[2 * a + 1])
                .map(|i| origin[a] + i as f64 * spacing[a])
                .collect()
        })),
        Grid::Rectilinear { x, y, z, .. } => Some([x.clone(), y.clone(), z.clone()]),
        Grid::Unstructured(_) => None,
    }
    .filter(|axes: &[Vec<f64>; 3]| axes.iter().all(|a| !a.is_empty()))
}

/// Cell centers between consecutive points; an axis of one point keeps one
/// cell centered on it, as VTK counts cells.
fn cell_centers(points: &[f64]) -> Vec<f64> {
    if points.len() == 1 {
        return points.to_vec();
    }
    points.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_centers_follow_vtk() {
        assert_eq!(cell_centers(&[1.0]), vec![1.0]);
        assert_eq!(cell_centers(&[0.0, 1.0, 3.0]), vec![0.5, 2.0]);
    }

    #[test]
    fn scale_maps_range_to_unit_interval() {
        assert_eq!(scale(2.0, [2.0, 4.0]), -1.0);
        assert_eq!(scale(4.0, [2.0, 4.0]), 1.0);
        assert_eq!(scale(5.0, [5.0, 5.0]), 0.0);
    }
}

//! Applying a file's corrections: at the stored sites of a stored time step
//! (and view) the decoded value gets its stored correction, which bounds the
//! error there; anywhere else the value is the network's.

use crate::corrections::Field;
use crate::decode::parallel::DecodeOptions;
use crate::decode::Decoder;
use crate::error::Result;
use crate::format::Association;
use crate::mesh::extract::MeshView;
use crate::sampling::{cell_extent, Extent, SamplingGrid};

/// Which stored site each decoded tuple is.
pub(crate) enum SiteMap<'a> {
    /// The tuples of `extent`, a box of a lattice of `dims` sites.
    Box { dims: [usize; 3], extent: Extent },
    /// Tuple `t` is stored site `ids[t]`, or no stored site when negative;
    /// the non-negative ids come first, increasing.
    Ids(&'a [i64]),
    /// Tuple `t` is stored site `start + t`, for `len` tuples.
    Range { start: u64, len: usize },
}

impl SiteMap<'_> {
    fn tuples(&self) -> usize {
        match self {
            SiteMap::Box { extent: e, .. } => (0..3).map(|a| e[2 * a + 1] + 1 - e[2 * a]).product(),
            SiteMap::Ids(ids) => ids.len(),
            SiteMap::Range { len, .. } => *len,
        }
    }

    fn site(&self, t: usize) -> Option<u64> {
        match self {
            SiteMap::Box { dims, extent: e } => {
                let (nx, ny) = (e[1] + 1 - e[0], e[3] + 1 - e[2]);
                let (i, j, l) = (t % nx + e[0], (t / nx) % ny + e[2], t / (nx * ny) + e[4]);
                Some((i + dims[0] * (j + dims[1] * l)) as u64)
            }
            SiteMap::Ids(ids) => u64::try_from(ids[t]).ok(),
            SiteMap::Range { start, .. } => Some(start + t as u64),
        }
    }

    fn tuple(&self, site: u64) -> Option<usize> {
        match self {
            SiteMap::Box { dims, extent: e } => {
                let s = site as usize;
                let (i, j, l) = (
                    s % dims[0],
                    (s / dims[0]) % dims[1],
                    s / (dims[0] * dims[1]),
                );
                let inside = |v: usize, a: usize| v >= e[2 * a] && v <= e[2 * a + 1];
                (inside(i, 0) && inside(j, 1) && inside(l, 2)).then(|| {
                    let (nx, ny) = (e[1] + 1 - e[0], e[3] + 1 - e[2]);
                    (i - e[0]) + nx * ((j - e[2]) + ny * (l - e[4]))
                })
            }
            SiteMap::Ids(ids) => {
                let stored = ids.partition_point(|&id| id >= 0);
                ids[..stored].binary_search(&(site as i64)).ok()
            }
            SiteMap::Range { start, len } => site
                .checked_sub(*start)
                .filter(|&t| t < *len as u64)
                .map(|t| t as usize),
        }
    }
}

/// Adds `field × step` to component `comp` of the tuples of `out`.
fn apply(field: &Field, step: f64, comps: usize, comp: usize, out: &mut [f32], map: &SiteMap) {
    let mut add = |t: usize, units: i64| {
        let v = &mut out[t * comps + comp];
        *v = (*v as f64 + units as f64 * step) as f32;
    };
    match field {
        Field::Zero => {}
        Field::Dense(units) => {
            for t in 0..map.tuples() {
                if let Some(&u) = map.site(t).and_then(|s| units.get(s as usize)) {
                    add(t, u);
                }
            }
        }
        Field::Sparse(entries) => {
            for &(site, u) in entries {
                if let Some(t) = map.tuple(site) {
                    add(t, u);
                }
            }
        }
    }
}

/// The corrections of one decoded buffer.
struct BufferFix<'m> {
    /// Which buffer, and its components per tuple.
    buffer: usize,
    components: usize,
    /// Per component, the field and its step.
    fields: Vec<(Field, f64)>,
    /// Which stored site each tuple is.
    sites: SiteMap<'m>,
}

/// The corrections of one decode, read before the network runs so that a
/// bad block fails the decode before any output is written.
#[derive(Default)]
pub(crate) struct Fixes<'m> {
    buffers: Vec<BufferFix<'m>>,
}

impl Fixes<'_> {
    /// Adds the corrections to the decoded buffers.
    pub(crate) fn apply(&self, outs: &mut [&mut [f32]]) {
        for b in &self.buffers {
            for (c, (field, step)) in b.fields.iter().enumerate() {
                apply(field, *step, b.components, c, outs[b.buffer], &b.sites);
            }
        }
    }
}

impl Decoder {
    /// The stored time step the effective time `t` is, if the file has
    /// corrections and the decode may use them: no blend, no coarser level
    /// of detail (the corrections are the full model's).
    fn corrected_step(&self, t: f64, options: &DecodeOptions) -> Option<usize> {
        self.corrections.as_ref()?;
        let preview = match self.model.get::<crate::model::ecnr::Ecnr>() {
            Some(e) => e.scales_for(options.detail) < e.scales_for(0),
            None => false,
        };
        if options.blend.is_some() || preview {
            return None;
        }
        match &self.metadata().time {
            None => Some(0),
            Some(axis) => axis.values.iter().position(|&v| v == t),
        }
    }

    /// Reads the corrections of `variables` (one buffer each) at time `t`
    /// and stored view `view`, whose tuples are the stored sites that
    /// `map(association)` says (`None`: no stored sites).
    pub(crate) fn fixes<'m>(
        &self,
        t: f64,
        view: usize,
        variables: &[usize],
        options: &DecodeOptions,
        map: &dyn Fn(Association) -> Option<SiteMap<'m>>,
    ) -> Result<Fixes<'m>> {
        let (Some(corr), Some(step)) = (&self.corrections, self.corrected_step(t, options)) else {
            return Ok(Fixes::default());
        };
        let mut fixes = Fixes::default();
        // The step's section, read once for all the variables that need it.
        let mut section = None;
        for (b, &v) in variables.iter().enumerate() {
            let var = &self.metadata().variables[v];
            let Some(sites) = map(var.association) else {
                continue;
            };
            let bytes = match &section {
                Some(bytes) => bytes,
                None => section.insert(corr.section(self.file(), step)?),
            };
            let fields = corr.fields_in(bytes, v, view)?;
            let steps = corr.meta.step[v].iter().copied();
            let fields = fields.into_iter().zip(steps).collect();
            fixes.buffers.push(BufferFix {
                buffer: b,
                components: var.components as usize,
                fields,
                sites,
            });
        }
        Ok(fixes)
    }

    /// The corrections of a grid decode of `extent`: none unless `grid` is
    /// the native grid.
    pub(crate) fn grid_fixes(
        &self,
        grid: &SamplingGrid,
        extent: &Extent,
        variables: &[usize],
        t: f64,
        options: &DecodeOptions,
    ) -> Result<Fixes<'static>> {
        if self.corrections.is_none() || self.native_grid() != Some(grid) {
            return Ok(Fixes::default());
        }
        let dims = grid.dims();
        let extent = *extent;
        let map = move |a: Association| match a {
            Association::Point => Some(SiteMap::Box { dims, extent }),
            Association::Cell => cell_extent(&extent, dims).map(|e| SiteMap::Box {
                dims: dims.map(|d| d.saturating_sub(1).max(1)),
                extent: e,
            }),
        };
        self.fixes(t, 0, variables, options, &map)
    }

    /// The corrections of a decode at `view`'s mesh: at its stored points,
    /// and at its cells when it is not refined.
    pub(crate) fn mesh_fixes<'m>(
        &self,
        view: &'m MeshView,
        variables: &[usize],
        t: f64,
        options: &DecodeOptions,
    ) -> Result<Fixes<'m>> {
        let unrefined = view.source_points.iter().all(|&p| p >= 0);
        let map = |a: Association| match a {
            Association::Point => Some(SiteMap::Ids(&view.source_points)),
            Association::Cell => unrefined.then(|| SiteMap::Range {
                start: view.source_cells.first().copied().unwrap_or(0),
                len: view.source_cells.len(),
            }),
        };
        self.fixes(t, 0, variables, options, &map)
    }

    /// The corrections of a decode at the stored mesh itself.
    pub(crate) fn stored_mesh_fixes(
        &self,
        points: usize,
        cells: usize,
        variables: &[usize],
        t: f64,
        options: &DecodeOptions,
    ) -> Result<Fixes<'static>> {
        let map = move |a: Association| {
            let len = if a == Association::Point {
                points
            } else {
                cells
            };
            Some(SiteMap::Range { start: 0, len })
        };
        self.fixes(t, 0, variables, options, &map)
    }
}

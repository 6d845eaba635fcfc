//! The sample grids of an STSR-INR encode (docs/format.md §10.5): the
//! native grid of the data, the training grid (every `k`-th sample along
//! each axis, some of the time steps), its split into the heads'
//! sub-volumes and the local coordinates of each training sample.

use inr_core::error::{Error, Result};
use inr_core::format::Association;
use inr_core::model::stsr::HeadAxis;

use crate::data::{Samples, Sites};

/// The grids of an encode.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub association: Association,
    /// Native samples along x, y, z.
    pub native: [usize; 3],
    /// Native samples per training sample along each axis (`k_a`).
    pub stride: [usize; 3],
    /// Training samples along each axis (`m_a`).
    pub train: [usize; 3],
    /// Sub-volumes along each axis (`h_a`).
    pub heads: [usize; 3],
    /// The native time steps trained on (all of them by default).
    pub steps: Vec<usize>,
    /// Every native step's time.
    pub times: Vec<f64>,
}

impl Grid {
    /// The grid of `samples` trained every `space`-th sample and `time`-th
    /// step (the last step always), split by `heads` (default: 2 along an
    /// axis of an even number of training samples, else 1).
    pub fn new(
        samples: &Samples,
        [space, time]: [usize; 2],
        heads: Option<[usize; 3]>,
    ) -> Result<Grid> {
        if space == 0 || time == 0 {
            return Err(Error::InvalidArgument(format!(
                "--train-stride {space},{time} (each must be at least 1)"
            )));
        }
        let (association, native) = native_grid(samples)?;
        let stride = native.map(|n| if n > 1 { space } else { 1 });
        let train: [usize; 3] = std::array::from_fn(|a| (native[a] - 1) / stride[a] + 1);
        let heads = heads.unwrap_or(train.map(|m| if m % 2 == 0 { 2 } else { 1 }));
        check_heads(heads, train)?;
        let times = samples.times.clone();
        let mut steps: Vec<usize> = (0..times.len()).step_by(time).collect();
        if steps.last() != Some(&(times.len() - 1)) {
            steps.push(times.len() - 1);
        }
        Ok(Grid {
            association,
            native,
            stride,
            train,
            heads,
            steps,
            times,
        })
    }

    /// Number of heads.
    pub fn head_count(&self) -> usize {
        self.heads.iter().product()
    }

    /// Training samples per sub-volume along each axis (`g_a`).
    pub fn per_head(&self) -> [usize; 3] {
        std::array::from_fn(|a| self.train[a] / self.heads[a])
    }

    /// Native samples per time step.
    pub fn native_len(&self) -> usize {
        self.native.iter().product()
    }

    /// Whether every sample is trained on.
    pub fn is_full(&self) -> bool {
        self.stride == [1; 3] && self.steps.len() == self.times.len()
    }

    /// The decoder's view of axis `a`.
    pub fn head_axis(&self, a: usize) -> HeadAxis {
        HeadAxis {
            heads: self.heads[a],
            per_head: self.per_head()[a] as u64,
            stride: self.stride[a] as u64,
        }
    }

    /// `(time_scale, time_shift)` mapping the time axis to [-1, 1]; `None`
    /// for one step.
    pub fn time_affine(&self) -> Option<(f64, f64)> {
        let (first, last) = (*self.times.first()?, *self.times.last()?);
        if self.times.len() < 2 || last <= first {
            return None;
        }
        let scale = 2.0 / (last - first);
        Some((scale, -1.0 - scale * first))
    }

    /// The normalized time of native step `s` (0 without time).
    pub fn time_input(&self, s: usize) -> f32 {
        self.time_affine()
            .map_or(0.0, |(a, b)| (a * self.times[s] + b) as f32)
    }

    /// Whether native sample `i` (x, y, z) of native step `s` is trained on.
    pub fn is_trained(&self, i: [usize; 3], s: usize) -> bool {
        (0..3).all(|a| i[a] % self.stride[a] == 0) && self.steps.contains(&s)
    }
}

/// The local coordinate of training-grid index `l` within a sub-volume of
/// `g` samples: -1 at its first sample, 1 at its last.
pub fn local(l: usize, g: usize) -> f64 {
    if g == 1 {
        0.0
    } else {
        -1.0 + 2.0 * l as f64 / (g - 1) as f64
    }
}

/// The association and native sample counts of a structured series whose
/// variables all sit on the same sites.
fn native_grid(samples: &Samples) -> Result<(Association, [usize; 3])> {
    let first = samples
        .variables
        .first()
        .ok_or_else(|| Error::InvalidArgument("no variables".into()))?
        .association;
    if samples.variables.iter().any(|v| v.association != first) {
        return Err(Error::Unsupported(
            "STSR-INR stores variables of one association (all point or all cell data); \
             encode the point and the cell arrays into separate files (--vars)"
                .into(),
        ));
    }
    match samples.parts.first().map(|p| &p.sites) {
        Some(Sites::Axes(axes)) => Ok((first, [0, 1, 2].map(|a| axes[a].len()))),
        _ => Err(Error::Unsupported(
            "STSR-INR encodes image data and rectilinear grids, not meshes".into(),
        )),
    }
}

/// Each axis's heads must split its training samples evenly.
fn check_heads(heads: [usize; 3], train: [usize; 3]) -> Result<()> {
    let count: usize = heads.iter().product();
    if count == 0 || count > inr_core::model::stsr::MAX_HEADS as usize {
        return Err(Error::InvalidArgument(format!(
            "--heads {heads:?}: 1 to {} heads in all, at least 1 per axis",
            inr_core::model::stsr::MAX_HEADS
        )));
    }
    for (a, name) in ["x", "y", "z"].iter().enumerate() {
        if train[a] % heads[a] != 0 {
            return Err(Error::InvalidArgument(format!(
                "--heads {},{},{}: {} heads along {name} do not divide its {} training samples \
                 (training grid {}x{}x{})",
                heads[0], heads[1], heads[2], heads[a], train[a], train[0], train[1], train[2]
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_coordinates_span_each_sub_volume() {
        assert_eq!(local(0, 4), -1.0);
        assert_eq!(local(3, 4), 1.0);
        assert_eq!(local(0, 1), 0.0);
    }

    #[test]
    fn heads_must_divide_the_training_grid() {
        assert!(check_heads([2, 2, 1], [32, 8, 7]).is_ok());
        let e = check_heads([2, 2, 2], [32, 8, 7]).unwrap_err().to_string();
        assert!(
            e.contains("along z") && e.contains("7 training samples"),
            "{e}"
        );
    }
}

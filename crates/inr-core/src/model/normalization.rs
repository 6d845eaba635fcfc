//! How the encoder maps domain coordinates to network inputs. The file stores
//! the resulting per-input affine map (`input_scale`, `input_shift`), so the
//! decoder does not care which option was used.

use crate::error::{Error, Result};

/// Per-input `(scale, shift)` with `x_n = scale * x + shift`.
pub type InputAffine = (Vec<f64>, Vec<f64>);

/// Maps each axis's `[lo, hi]` to [-1, 1] independently (MVNet, CoordNet).
/// A degenerate axis (lo == hi) maps to 0.
pub fn bounding_box(bounds: &[[f64; 2]]) -> InputAffine {
    bounds.iter().map(|b| axis(b[0], b[1], b[1] - b[0])).unzip()
}

/// Keeps the aspect ratio (neurcomp's option): spatial axes share one scale,
/// set by the longest axis, and are centered, so the longest maps to [-1, 1]
/// and a thin axis to a narrower interval. `spatial` leading entries of
/// `bounds` are spatial; the rest (time) map to [-1, 1] on their own.
pub fn aspect_preserving(bounds: &[[f64; 2]], spatial: usize) -> InputAffine {
    let longest = bounds[..spatial.min(bounds.len())]
        .iter()
        .map(|b| b[1] - b[0])
        .fold(0.0, f64::max);
    bounds
        .iter()
        .enumerate()
        .map(|(i, b)| axis(b[0], b[1], if i < spatial { longest } else { b[1] - b[0] }))
        .unzip()
}

/// Centers `part`'s box at 0 with the scales `bounding_box(domain)` gives:
/// an MC-INR cluster's inputs. Its network then sees the same frequencies
/// per domain unit as one network over the whole domain (its own box mapped
/// to [-1, 1] would multiply them; docs/benchmarks.md). `part` may have
/// fewer entries than `domain` (the spatial ones); the rest map as the
/// domain's.
pub fn centered_on(domain: &[[f64; 2]], part: &[[f64; 2]]) -> InputAffine {
    domain
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let (lo, hi) = part.get(i).map_or((d[0], d[1]), |p| (p[0], p[1]));
            axis(lo, hi, d[1] - d[0])
        })
        .unzip()
}

/// `affine` scaled by `factor` along its first `spatial` inputs: a first
/// sine layer of frequency `factor * w0` there, for a network whose first
/// layer computes `sin(w0 (W x + b))` (the file keeps `w0`).
pub fn scaled(affine: InputAffine, factor: f64, spatial: usize) -> InputAffine {
    let (mut scale, mut shift) = affine;
    for (s, t) in scale.iter_mut().zip(shift.iter_mut()).take(spatial) {
        *s *= factor;
        *t *= factor;
    }
    (scale, shift)
}

/// The affine map sending the center of `[lo, hi]` to 0 and a length of
/// `extent` to 2.
fn axis(lo: f64, hi: f64, extent: f64) -> (f64, f64) {
    if extent > 0.0 && extent.is_finite() {
        let s = 2.0 / extent;
        (s, -0.5 * (lo + hi) * s)
    } else {
        (1.0, -0.5 * (lo + hi))
    }
}

/// A stored map must be finite ("invalid" otherwise).
pub fn check_finite(scale: &[f64], shift: &[f64]) -> Result<()> {
    if scale.iter().chain(shift).all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(Error::Invalid("non-finite input normalization".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(a: &InputAffine, i: usize, x: f64) -> f64 {
        a.0[i] * x + a.1[i]
    }

    #[test]
    fn bounding_box_maps_each_axis_to_unit_interval() {
        let a = bounding_box(&[[0.0, 10.0], [-2.0, 2.0], [5.0, 5.0], [0.0, 1.0]]);
        assert_eq!((apply(&a, 0, 0.0), apply(&a, 0, 10.0)), (-1.0, 1.0));
        assert_eq!((apply(&a, 1, -2.0), apply(&a, 1, 2.0)), (-1.0, 1.0));
        assert_eq!(apply(&a, 2, 5.0), 0.0);
        assert_eq!(apply(&a, 3, 1.0), 1.0);
    }

    #[test]
    fn aspect_preserving_uses_the_longest_axis() {
        let a = aspect_preserving(&[[0.0, 500.0], [0.0, 500.0], [0.0, 100.0], [2.0, 5.0]], 3);
        assert_eq!((apply(&a, 0, 0.0), apply(&a, 0, 500.0)), (-1.0, 1.0));
        assert!(
            (apply(&a, 2, 0.0) + 0.2).abs() < 1e-12 && (apply(&a, 2, 100.0) - 0.2).abs() < 1e-12
        );
        assert!((apply(&a, 3, 2.0) + 1.0).abs() < 1e-12 && (apply(&a, 3, 5.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_part_keeps_the_domains_scale_around_its_own_center() {
        let domain = [[0.0, 10.0], [-2.0, 2.0], [0.0, 4.0], [0.0, 1.0]];
        let a = centered_on(&domain, &[[6.0, 8.0], [0.0, 1.0], [1.0, 1.0]]);
        let near = |x: f64, y: f64| (x - y).abs() < 1e-12;
        // A fifth of the domain's x-extent spans a fifth of [-1, 1].
        assert!(near(apply(&a, 0, 6.0), -0.2) && near(apply(&a, 0, 8.0), 0.2));
        assert!(near(apply(&a, 1, 0.0), -0.25) && near(apply(&a, 1, 1.0), 0.25));
        assert!(near(apply(&a, 2, 1.0), 0.0));
        // Time, not given for the part, maps as the domain's.
        assert!(near(apply(&a, 3, 0.0), -1.0) && near(apply(&a, 3, 1.0), 1.0));
    }

    #[test]
    fn scaling_changes_only_the_spatial_inputs() {
        let a = scaled(bounding_box(&[[0.0, 10.0], [0.0, 1.0]]), 0.25, 1);
        assert_eq!((apply(&a, 0, 0.0), apply(&a, 0, 10.0)), (-0.25, 0.25));
        assert_eq!((apply(&a, 1, 0.0), apply(&a, 1, 1.0)), (-1.0, 1.0));
    }
}

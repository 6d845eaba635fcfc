//! Error-bounded NeRVI files: the pixels of every stored image (both
//! variables, the composited color and the mask, in [0, 1]) within the
//! bound, by the same corrections as the fields' (format section 10.9).

use tch::{Kind, Tensor};

use inr_core::corrections::write::{self, Units};
use inr_core::decode::{DecodeOptions, Decoder, ImageRequest};
use inr_core::error::Result;

use super::data::ImageSet;
use crate::bound::{step_for, ErrorBound};

/// What the corrections of an images file did.
#[derive(Clone, Debug)]
pub struct ImageCorrections {
    /// The absolute bound (color and mask are in [0, 1]).
    pub bound: f64,
    /// Values corrected, of all (pixels x 4 per image).
    pub corrected: u64,
    pub values: u64,
    pub bytes: u64,
    /// The largest error of the network alone, and of the file.
    pub network_error: f64,
    pub file_error: f64,
}

/// `bytes` with corrections holding every stored pixel within `bound`.
pub fn correct(
    bytes: &[u8],
    set: &ImageSet,
    background: [f64; 3],
    bound: ErrorBound,
) -> Result<(Vec<u8>, ImageCorrections)> {
    let bound = bound.check()?;
    let b = match bound {
        ErrorBound::Absolute(a) => a,
        ErrorBound::Relative(r) => r, // both variables span [0, 1]
    };
    let step = step_for("the images", &[[0.0, 1.0]], b)?;
    let network = decode_all(&Decoder::from_bytes(bytes.to_vec())?, set)?;
    let truth = originals(set, background)?;
    let mut units: Units = vec![vec![vec![Vec::new(); 3], vec![Vec::new()]]; network.len()];
    let mut network_error = 0f64;
    for (s, per_var) in network.iter().enumerate() {
        for (v, comps) in per_var.iter().enumerate() {
            for (c, values) in comps.iter().enumerate() {
                let t = &truth[s][v][c];
                units[s][v][c] = values
                    .iter()
                    .zip(t)
                    .map(|(&y, &x)| {
                        network_error = network_error.max((y as f64 - x).abs());
                        ((x - y as f64) / step).round() as i64
                    })
                    .collect();
            }
        }
    }
    let corrected = units
        .iter()
        .flatten()
        .flatten()
        .flatten()
        .filter(|&&u| u != 0)
        .count() as u64;
    let values = units
        .iter()
        .flatten()
        .flatten()
        .map(|c| c.len() as u64)
        .sum();
    let out = write::add(
        bytes,
        vec![vec![b; 3], vec![b]],
        vec![vec![step; 3], vec![step]],
        &units,
    )?;
    let fixed = decode_all(&Decoder::from_bytes(out.clone())?, set)?;
    let mut file_error = 0f64;
    for (got, want) in fixed
        .iter()
        .flatten()
        .flatten()
        .zip(truth.iter().flatten().flatten())
    {
        for (&y, &x) in got.iter().zip(want) {
            file_error = file_error.max((y as f64 - x).abs());
        }
    }
    if file_error > b {
        return Err(inr_core::Error::Invalid(format!(
            "corrected images still err by {file_error:e} > {b:e}: please report this"
        )));
    }
    let report = ImageCorrections {
        bound: b,
        corrected,
        values,
        bytes: (out.len() - bytes.len()) as u64,
        network_error,
        file_error,
    };
    Ok((out, report))
}

/// `[step][variable][component]`: the decoded values of every stored view
/// in order, each a whole image (top row first).
fn decode_all(decoder: &Decoder, set: &ImageSet) -> Result<Vec<Vec<Vec<Vec<f32>>>>> {
    let pixels = set.width * set.height;
    let steps = set.times.len().max(1);
    let mut out = vec![vec![vec![Vec::new(); 3], vec![Vec::new()]]; steps];
    for (s, per_var) in out.iter_mut().enumerate() {
        for view in &set.views {
            let req = ImageRequest {
                time: set.times.get(s).copied(),
                view: view.clone(),
                variables: vec![0, 1],
            };
            let img = decoder.decode_image(&req, &DecodeOptions::default())?;
            for (v, a) in img.arrays.iter().enumerate() {
                for (c, comp) in per_var[v].iter_mut().enumerate() {
                    comp.extend((0..pixels).map(|p| a.values[p * a.components + c]));
                }
            }
        }
    }
    Ok(out)
}

/// The same layout of the rendered values: composited color, mask.
fn originals(set: &ImageSet, background: [f64; 3]) -> Result<Vec<Vec<Vec<Vec<f64>>>>> {
    let views = set.views.len();
    let steps = set.times.len().max(1);
    let mut out = vec![vec![vec![Vec::new(); 3], vec![Vec::new()]]; steps];
    for (s, per_var) in out.iter_mut().enumerate() {
        for v in 0..views {
            let index =
                Tensor::from_slice(&[(s * views + v) as i64]).to_device(set.pixels.device());
            let (color, mask) = set.targets(&index, background);
            for (var, t) in [(0usize, color), (1, mask)] {
                let t = t
                    .to_device(tch::Device::Cpu)
                    .to_kind(Kind::Double)
                    .contiguous();
                let flat = Vec::<f64>::try_from(&t.view(-1)).map_err(crate::tch_error)?;
                let planes = per_var[var].len();
                for (c, comp) in per_var[var].iter_mut().enumerate() {
                    let n = flat.len() / planes;
                    comp.extend_from_slice(&flat[c * n..(c + 1) * n]);
                }
            }
        }
    }
    Ok(out)
}

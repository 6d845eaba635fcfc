//! A Cinema database as NeRVI's training set: the time axis and the views
//! of a full product of time steps and views, each image's normalized
//! inputs, and its color and mask as tensors.

use tch::{Device, Kind, Tensor};

use inr_core::error::{Error, Result};

use crate::cinema::Collection;
use crate::tch_error;

/// The parameter read as the time axis.
pub const TIME: &str = "time";
/// The parameter read as an azimuth in degrees, periodic over 360.
pub const AZIMUTH: &str = "theta";

/// The images, ordered as the file stores them: step after step, each the
/// views in order (image `s x V + v`).
pub struct ImageSet {
    pub width: usize,
    pub height: usize,
    /// Stored time values, increasing (empty: a static collection).
    pub times: Vec<f64>,
    /// View parameter names and the stored views (one value per name each).
    pub parameters: Vec<String>,
    pub views: Vec<Vec<f64>>,
    /// Per input `c = (t, p..)`, `x_n = scale c + shift`.
    pub input_scale: Vec<f64>,
    pub input_shift: Vec<f64>,
    /// `[N, inputs]` normalized inputs.
    pub inputs: Tensor,
    /// `[N, 4, H, W]` RGBA8 pixels (alpha: the mask).
    pub pixels: Tensor,
}

impl ImageSet {
    /// The collection ordered by time and view; refuses one that is not a
    /// full product of its time steps and views.
    pub fn new(c: &Collection, device: Device) -> Result<ImageSet> {
        let t_col = c.parameters.iter().position(|p| p == TIME);
        let view_cols: Vec<usize> = (0..c.parameters.len())
            .filter(|&i| Some(i) != t_col)
            .collect();
        if view_cols.is_empty() {
            return Err(Error::InvalidArgument(
                "the database has no view parameter besides time".into(),
            ));
        }
        let mut times: Vec<f64> =
            t_col.map_or_else(Vec::new, |t| c.views.iter().map(|v| v[t]).collect());
        sort_dedup(&mut times);
        let mut views: Vec<Vec<f64>> = (c.views.iter())
            .map(|v| view_cols.iter().map(|&i| v[i]).collect())
            .collect();
        views.sort_by(|a, b| a.partial_cmp(b).expect("finite parameters"));
        views.dedup();
        let order = product_order(c, t_col, &view_cols, &times, &views)?;
        let parameters: Vec<String> = view_cols.iter().map(|&i| c.parameters[i].clone()).collect();
        let (input_scale, input_shift) = normalization(&times, &parameters, &views);
        let inputs: Vec<f32> = (order.iter())
            .flat_map(|&i| {
                let row = &c.views[i];
                let mut x: Vec<f64> = t_col.map(|t| row[t]).into_iter().collect();
                x.extend(view_cols.iter().map(|&k| row[k]));
                x.iter()
                    .enumerate()
                    .map(|(k, v)| (input_scale[k] * v + input_shift[k]) as f32)
                    .collect::<Vec<_>>()
            })
            .collect();
        let n = order.len() as i64;
        let pixels: Vec<u8> = order
            .iter()
            .flat_map(|&i| c.pixels[i].iter().copied())
            .collect();
        let (w, h) = (c.width as i64, c.height as i64);
        let pixels = Tensor::f_from_slice(&pixels)
            .and_then(|t| t.f_view([n, h, w, 4]))
            .and_then(|t| t.f_permute([0, 3, 1, 2]))
            .and_then(|t| t.f_contiguous())
            .and_then(|t| t.f_to_device(device))
            .map_err(tch_error)?;
        let inputs = Tensor::f_from_slice(&inputs)
            .and_then(|t| t.f_view([n, input_scale.len() as i64]))
            .and_then(|t| t.f_to_device(device))
            .map_err(tch_error)?;
        Ok(ImageSet {
            width: c.width,
            height: c.height,
            times,
            parameters,
            views,
            input_scale,
            input_shift,
            inputs,
            pixels,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.inputs.size()[0] as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Color `[B, 3, H, W]` composited on `background` and mask `[B, 1, H,
    /// W]`, in [0, 1], of the images `index`.
    pub fn targets(&self, index: &Tensor, background: [f64; 3]) -> (Tensor, Tensor) {
        let px = self.pixels.index_select(0, index).to_kind(Kind::Float) / 255.0;
        let mask = px.narrow(1, 3, 1);
        let bg = Tensor::from_slice(&background)
            .to_kind(Kind::Float)
            .to_device(px.device())
            .view([1, 3, 1, 1]);
        let color = px.narrow(1, 0, 3) * &mask + bg * (1.0 - &mask);
        (color, mask)
    }
}

fn sort_dedup(v: &mut Vec<f64>) {
    v.sort_by(|a, b| a.partial_cmp(b).expect("finite parameters"));
    v.dedup();
}

/// Row of the collection for each (step, view), refusing duplicates and
/// missing combinations.
fn product_order(
    c: &Collection,
    t_col: Option<usize>,
    view_cols: &[usize],
    times: &[f64],
    views: &[Vec<f64>],
) -> Result<Vec<usize>> {
    let steps = times.len().max(1);
    let mut order = vec![usize::MAX; steps * views.len()];
    for (i, row) in c.views.iter().enumerate() {
        let s = t_col.map_or(0, |t| times.partition_point(|&x| x < row[t]));
        let view: Vec<f64> = view_cols.iter().map(|&k| row[k]).collect();
        let v = views.partition_point(|x| x.partial_cmp(&view) == Some(std::cmp::Ordering::Less));
        let slot = &mut order[s * views.len() + v];
        if *slot != usize::MAX {
            return Err(Error::InvalidArgument(format!(
                "the database has two images for parameters {row:?}"
            )));
        }
        *slot = i;
    }
    if order.contains(&usize::MAX) {
        return Err(Error::InvalidArgument(format!(
            "the database is not every combination of its {steps} time steps and {} views \
             ({} images of {})",
            views.len(),
            c.views.len(),
            order.len()
        )));
    }
    Ok(order)
}

/// Time and every view parameter to [-0.5, 0.5] (the encoding's lowest
/// frequency has period 2: the ends of [-1, 1] would alias), an azimuth's
/// period of 360 degrees to 2 (so that -180 and 180 are one view).
fn normalization(times: &[f64], parameters: &[String], views: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>) {
    let half = |lo: f64, hi: f64| -> (f64, f64) {
        if hi > lo {
            (1.0 / (hi - lo), -0.5 - lo / (hi - lo))
        } else {
            (1.0, -lo)
        }
    };
    let mut affine = Vec::new();
    if let (Some(&lo), Some(&hi)) = (times.first(), times.last()) {
        affine.push(half(lo, hi));
    }
    for (p, name) in parameters.iter().enumerate() {
        let col = views.iter().map(|v| v[p]);
        let lo = col.clone().fold(f64::INFINITY, f64::min);
        let hi = col.fold(f64::NEG_INFINITY, f64::max);
        affine.push(if name == AZIMUTH {
            (1.0 / 180.0, 0.0)
        } else {
            half(lo, hi)
        });
    }
    affine.into_iter().unzip()
}

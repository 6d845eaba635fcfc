//! The MLPs of one scale trained at once (the paper's batched linear
//! layer): every layer holds `m` weight matrices `[m, in, out]` applied by
//! one batched product, the blocks' latent codes beside them. Pruned
//! weights are masked in the forward pass, and after quantization every
//! value is drawn from its role's shared table (`crate::straight_through`).

use tch::nn::{Init, Path};
use tch::{Kind, Tensor};

use inr_core::error::Result;

use crate::siren::W0;
use crate::straight_through::drawn;
use crate::tch_error;

/// One layer of the `m` MLPs.
#[derive(Debug)]
pub struct Layer {
    /// `[m, in, out]`.
    pub weight: Tensor,
    /// `[m, 1, out]`.
    pub bias: Tensor,
    /// 1 where a weight (bias) is kept; `None` when the layer is never
    /// pruned (the last layer's weights, the first and last layers' biases).
    pub weight_mask: Option<Tensor>,
    pub bias_mask: Option<Tensor>,
    pub sine: bool,
}

/// The shared tables of a quantized scale.
#[derive(Debug)]
pub struct Tables {
    pub weights: Tensor,
    pub biases: Tensor,
    pub latents: Tensor,
}

/// A scale's MLPs and latent codes.
#[derive(Debug)]
pub struct Stacked {
    pub m: usize,
    pub layers: Vec<Layer>,
    /// `[blocks, latent_dim]`, one row per non-empty block.
    pub latents: Tensor,
    pub tables: Option<Tables>,
}

/// The shape of a scale's MLPs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MlpShape {
    pub latent_dim: usize,
    pub width: usize,
    /// Sine layers (the paper's three).
    pub sine_layers: usize,
    pub outputs: usize,
}

impl MlpShape {
    /// `(in, out)` of every layer.
    pub fn layers(&self) -> Vec<(usize, usize)> {
        let mut out = vec![(3 + self.latent_dim, self.width)];
        out.extend((1..self.sine_layers).map(|_| (self.width, self.width)));
        out.push((self.width, self.outputs));
        out
    }

    /// Parameters of one MLP.
    pub fn parameters(&self) -> usize {
        self.layers().iter().map(|(i, o)| (i + 1) * o).sum()
    }
}

impl Stacked {
    /// SIREN's initialization for `m` MLPs of `shape` and `blocks` latent
    /// codes (small, as auto-decoders start theirs).
    pub fn new(p: &Path, m: usize, shape: MlpShape, blocks: usize) -> Stacked {
        let n = shape.layers().len();
        let layers = shape
            .layers()
            .into_iter()
            .enumerate()
            .map(|(i, (inp, out))| {
                let limit = if i == 0 {
                    1.0 / inp as f64
                } else {
                    (6.0 / inp as f64).sqrt() / W0
                };
                let b = 1.0 / (inp as f64).sqrt();
                let (mi, ii, oi) = (m as i64, inp as i64, out as i64);
                let sub = p.sub(format!("layer{i}"));
                Layer {
                    weight: sub.var(
                        "weight",
                        &[mi, ii, oi],
                        Init::Uniform {
                            lo: -limit,
                            up: limit,
                        },
                    ),
                    bias: sub.var("bias", &[mi, 1, oi], Init::Uniform { lo: -b, up: b }),
                    weight_mask: (i + 1 < n)
                        .then(|| Tensor::ones([mi, ii, oi], (Kind::Float, p.device()))),
                    bias_mask: (i > 0 && i + 1 < n)
                        .then(|| Tensor::ones([mi, 1, oi], (Kind::Float, p.device()))),
                    sine: i + 1 < n,
                }
            })
            .collect();
        let latents = p.var(
            "latents",
            &[blocks as i64, shape.latent_dim as i64],
            Init::Randn {
                mean: 0.0,
                stdev: 0.01,
            },
        );
        Stacked {
            m,
            layers,
            latents,
            tables: None,
        }
    }

    /// The weight of layer `i` as used: masked, drawn from its table.
    pub fn weight(&self, i: usize) -> Tensor {
        let l = &self.layers[i];
        let w = match &self.tables {
            Some(t) => drawn(&t.weights, &l.weight),
            None => l.weight.shallow_clone(),
        };
        match &l.weight_mask {
            Some(mask) => w * mask,
            None => w,
        }
    }

    pub fn bias(&self, i: usize) -> Tensor {
        let l = &self.layers[i];
        let b = match &self.tables {
            Some(t) => drawn(&t.biases, &l.bias),
            None => l.bias.shallow_clone(),
        };
        match &l.bias_mask {
            Some(mask) => b * mask,
            None => b,
        }
    }

    /// The latent codes as used.
    pub fn latents(&self) -> Tensor {
        match &self.tables {
            Some(t) => drawn(&t.latents, &self.latents),
            None => self.latents.shallow_clone(),
        }
    }

    /// `x` `[m, P, 3 + latent_dim]` to `[m, P, outputs]`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let mut h = x.shallow_clone();
        for (i, l) in self.layers.iter().enumerate() {
            h = self.bias(i).baddbmm(&h, &self.weight(i), 1.0, 1.0);
            if l.sine {
                h = (h * W0).sin();
            }
        }
        h
    }

    /// The inputs of samples `local` `[m, P]` (indices into `coords`, the
    /// block's local coordinates `[volume, 3]`) of blocks `rows` `[m, P]`
    /// (rows of the latents).
    pub fn inputs(&self, coords: &Tensor, local: &Tensor, rows: &Tensor) -> Tensor {
        let size = local.size();
        let u = coords.index_select(0, &local.reshape([-1]));
        let z = self.latents().index_select(0, &rows.reshape([-1]));
        Tensor::cat(&[u, z], 1).view([size[0], size[1], -1])
    }

    /// The number of weights and biases kept (not pruned) over all MLPs.
    pub fn kept(&self) -> Result<(i64, i64)> {
        let count = |t: &Option<Tensor>, full: &Tensor| -> Result<i64> {
            match t {
                Some(mask) => mask
                    .f_sum(Kind::Float)
                    .and_then(|s| s.f_int64_value(&[]))
                    .map_err(tch_error),
                None => Ok(full.numel() as i64),
            }
        };
        let mut w = 0;
        let mut b = 0;
        for l in &self.layers {
            w += count(&l.weight_mask, &l.weight)?;
            b += count(&l.bias_mask, &l.bias)?;
        }
        Ok((w, b))
    }
}

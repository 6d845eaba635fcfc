//! The residual SIREN in libtorch, with exactly the decoder's math
//! (`crate::model::residual_siren`): a sine layer `sin(w0 (W x + b))`,
//! residual blocks `0.5 (x + sin(w0 (W2 sin(w0 (W1 x + b1)) + b2)))`, a
//! linear head. Inputs are already normalized to the network's range.

use tch::nn::{Init, Path, VarStore};
use tch::{Device, Tensor};

use crate::error::Result;
use crate::model::{Dense, Layer, ResidualSiren};

use super::tch_error;

/// Frequency of every sine layer.
pub const W0: f64 = 30.0;

/// Network shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub inputs: usize,
    pub width: usize,
    pub blocks: usize,
    pub outputs: usize,
}

impl Shape {
    /// Number of parameters (weights and biases).
    pub fn parameters(&self) -> u64 {
        let (k, w, b, c) = (
            self.inputs as u64,
            self.width as u64,
            self.blocks as u64,
            self.outputs as u64,
        );
        (k * w + w) + b * 2 * (w * w + w) + (w * c + c)
    }
}

/// One dense layer's variables: weight [out, in], bias [out].
#[derive(Debug)]
struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    /// SIREN initialization: weights U(-limit, limit); biases as PyTorch's
    /// `nn.Linear` (U(-1/sqrt(in), 1/sqrt(in))), as the SIREN reference code.
    fn new(p: &Path, inp: usize, out: usize, limit: f64) -> Linear {
        let b = 1.0 / (inp as f64).sqrt();
        Linear {
            weight: p.var(
                "weight",
                &[out as i64, inp as i64],
                Init::Uniform {
                    lo: -limit,
                    up: limit,
                },
            ),
            bias: p.var("bias", &[out as i64], Init::Uniform { lo: -b, up: b }),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, Some(&self.bias))
    }

    fn export(&self) -> Result<Dense> {
        let size = self.weight.size();
        let flat = |t: &Tensor| -> Result<Vec<f32>> {
            Vec::<f32>::try_from(&t.detach().to_device(Device::Cpu).contiguous().view(-1))
                .map_err(tch_error)
        };
        Ok(Dense {
            out_features: size[0] as usize,
            in_features: size[1] as usize,
            weight: flat(&self.weight)?,
            bias: flat(&self.bias)?,
        })
    }
}

/// The trainable network; its variables live in the [`VarStore`] it was
/// built with.
#[derive(Debug)]
pub struct Siren {
    pub shape: Shape,
    first: Linear,
    blocks: Vec<(Linear, Linear)>,
    head: Linear,
}

impl Siren {
    /// A freshly initialized network (draws from libtorch's generator:
    /// call `tch::manual_seed` first for reproducible weights).
    pub fn new(vs: &VarStore, shape: Shape) -> Siren {
        let root = vs.root();
        let hidden = (6.0 / shape.width as f64).sqrt() / W0;
        let first = Linear::new(
            &(&root / "first"),
            shape.inputs,
            shape.width,
            1.0 / shape.inputs as f64,
        );
        let blocks = (0..shape.blocks)
            .map(|i| {
                let p = &root / format!("block{i}");
                (
                    Linear::new(&(&p / "1"), shape.width, shape.width, hidden),
                    Linear::new(&(&p / "2"), shape.width, shape.width, hidden),
                )
            })
            .collect();
        let head = Linear::new(&(&root / "head"), shape.width, shape.outputs, hidden);
        Siren {
            shape,
            first,
            blocks,
            head,
        }
    }

    /// `x` [n, inputs] normalized coordinates to [n, outputs] in [-1, 1] units.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let mut h = (self.first.forward(x) * W0).sin();
        for (a, b) in &self.blocks {
            let inner = (a.forward(&h) * W0).sin();
            h = (&h + (b.forward(&inner) * W0).sin()) * 0.5;
        }
        self.head.forward(&h)
    }

    /// The weights as the decoder's model, with the given input normalization.
    pub fn export(&self, input_scale: Vec<f64>, input_shift: Vec<f64>) -> Result<ResidualSiren> {
        let w0 = W0 as f32;
        let mut layers = vec![Layer::Sine {
            w0,
            dense: self.first.export()?,
        }];
        for (a, b) in &self.blocks {
            layers.push(Layer::ResidualSine {
                w0: [w0, w0],
                first: a.export()?,
                second: b.export()?,
            });
        }
        layers.push(Layer::Linear {
            dense: self.head.export()?,
        });
        Ok(ResidualSiren {
            inputs: self.shape.inputs,
            input_scale,
            input_shift,
            layers,
        })
    }
}

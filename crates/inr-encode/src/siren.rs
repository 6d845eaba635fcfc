//! The residual SIREN in libtorch, with exactly the decoder's math
//! (`inr_core::model::residual_siren`): a sine layer `sin(w0 (W x + b))`,
//! residual blocks `0.5 (x + sin(w0 (W2 sin(w0 (W1 x + b1)) + b2)))`, a
//! linear head. Inputs are already normalized to the network's range.

use tch::nn::{Init, Path, VarStore};
use tch::Tensor;

use inr_core::error::{Error, Result};
use inr_core::model::{Dense, Layer, ResidualSiren};

use super::levels::Levels;
use super::param::Param;

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

    /// The element counts of its tensors, in the file's order: each dense
    /// layer's weight then bias, first layer, blocks, head.
    pub fn tensor_sizes(&self) -> Vec<usize> {
        let (k, w, c) = (self.inputs, self.width, self.outputs);
        let mut sizes = vec![k * w, w];
        for _ in 0..2 * self.blocks {
            sizes.extend([w * w, w]);
        }
        sizes.extend([w * c, c]);
        sizes
    }
}

/// One dense layer's variables: weight [out, in], bias [out].
#[derive(Debug)]
struct Linear {
    weight: Param,
    bias: Param,
}

impl Linear {
    /// SIREN initialization: weights U(-limit, limit); biases as PyTorch's
    /// `nn.Linear` (U(-1/sqrt(in), 1/sqrt(in))), as the SIREN reference code.
    fn new(p: &Path, inp: usize, out: usize, limit: f64) -> Linear {
        let b = 1.0 / (inp as f64).sqrt();
        Linear {
            weight: Param::Free(p.var(
                "weight",
                &[out as i64, inp as i64],
                Init::Uniform {
                    lo: -limit,
                    up: limit,
                },
            )),
            bias: Param::Free(p.var("bias", &[out as i64], Init::Uniform { lo: -b, up: b })),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight.value(), Some(&self.bias.value()))
    }

    /// Quantized to `levels` = [weight's, bias's].
    fn quantized(&self, p: &Path, levels: &[Option<usize>]) -> Result<Linear> {
        Ok(Linear {
            weight: self.weight.quantized(p, "weight", levels[0])?,
            bias: self.bias.quantized(p, "bias", levels[1])?,
        })
    }

    fn export(&self) -> Result<Dense> {
        let size = self.weight.value().size();
        Ok(Dense {
            out_features: size[0] as usize,
            in_features: size[1] as usize,
            weight: self.weight.values()?,
            bias: self.bias.values()?,
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

    /// The network with each tensor quantized by k-means to its number of
    /// shared values in `levels` (deep compression; f32 where `None`), as
    /// variables of `vs`: training it fine-tunes the codebook values. The
    /// file then stores exactly these values.
    pub fn quantized(&self, vs: &VarStore, levels: &Levels) -> Result<Siren> {
        let levels = &levels.0;
        if levels.len() != self.shape.tensor_sizes().len() {
            return Err(Error::InvalidArgument(format!(
                "{} levels for {} tensors",
                levels.len(),
                self.shape.tensor_sizes().len()
            )));
        }
        let root = vs.root();
        let blocks = self
            .blocks
            .iter()
            .enumerate()
            .map(|(i, (a, b))| {
                let p = &root / format!("block{i}");
                let at = 2 + 4 * i;
                Ok((
                    a.quantized(&(&p / "1"), &levels[at..at + 2])?,
                    b.quantized(&(&p / "2"), &levels[at + 2..at + 4])?,
                ))
            })
            .collect::<Result<_>>()?;
        let head = levels.len() - 2;
        Ok(Siren {
            shape: self.shape,
            first: self.first.quantized(&(&root / "first"), &levels[..2])?,
            blocks,
            head: self.head.quantized(&(&root / "head"), &levels[head..])?,
        })
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

//! NeRVI's network in libtorch, with exactly the decoder's math
//! (`inr_core::model::nervi`): Fourier features, two SIREN residual blocks
//! with projected skips, the reshape, upscale blocks (convolution, pixel
//! shuffle, exact GELU) and a convolution head. The head is linear: color
//! and mask targets of 0 and 1 sit on a tanh's or sigmoid's asymptotes, and
//! a network pushed there saturates and stops learning (the composite clamps).

use tch::nn::{Init, Path, VarStore};
use tch::{Kind, Tensor};

use inr_core::error::Result;
use inr_core::kernels::conv::Conv;
use inr_core::model::nervi::{ConvLayer, Fourier, MlpLayer, Nervi, Upscale};
use inr_core::model::Dense;

use super::shape::{NerviShape, KERNEL, OUTPUTS};
use crate::tensor_values;

/// Frequency of the sine layers (NeRVI, after SIREN).
pub const W0: f64 = 30.0;
/// Base of the Fourier features.
pub const BASE: f64 = 2.0;

struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    fn new(p: &Path, inp: usize, out: usize, limit: f64) -> Linear {
        let init = Init::Uniform {
            lo: -limit,
            up: limit,
        };
        Linear {
            weight: p.var("weight", &[out as i64, inp as i64], init),
            bias: p.var("bias", &[out as i64], init),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        x.matmul(&self.weight.tr()) + &self.bias
    }

    fn export(&self) -> Result<Dense> {
        let size = self.weight.size();
        Ok(Dense {
            out_features: size[0] as usize,
            in_features: size[1] as usize,
            weight: tensor_values(&self.weight)?,
            bias: tensor_values(&self.bias)?,
        })
    }
}

/// A SIREN residual block whose skip is a linear projection.
struct Block {
    first: Linear,
    second: Linear,
    shortcut: Linear,
}

impl Block {
    fn new(p: &Path, inp: usize, out: usize, first_layer: bool) -> Block {
        // SIREN's initialization: U(-1/in, 1/in) for the first layer,
        // U(-sqrt(6/in)/w0, ..) after, so that sin(w0 .) stays well spread.
        let siren = |n: usize| (6.0 / n as f64).sqrt() / W0;
        let first = if first_layer {
            1.0 / inp as f64
        } else {
            siren(inp)
        };
        Block {
            first: Linear::new(&(p / "first"), inp, out, first),
            second: Linear::new(&(p / "second"), out, out, siren(out)),
            shortcut: Linear::new(&(p / "shortcut"), inp, out, 1.0 / (inp as f64).sqrt()),
        }
    }

    fn forward(&self, h: &Tensor) -> Tensor {
        let g = (self.first.forward(h) * W0).sin();
        let f = (self.second.forward(&g) * W0).sin();
        (self.shortcut.forward(h) + f) * 0.5
    }

    fn export(&self) -> Result<MlpLayer> {
        Ok(MlpLayer::Residual {
            w0: [W0 as f32; 2],
            first: self.first.export()?,
            second: self.second.export()?,
            shortcut: Some(self.shortcut.export()?),
        })
    }
}

struct Conv2d {
    weight: Tensor,
    bias: Tensor,
}

impl Conv2d {
    /// PyTorch's default initialization, U(-1/sqrt(fan_in), ..).
    fn new(p: &Path, cin: usize, cout: usize) -> Conv2d {
        let limit = 1.0 / ((cin * KERNEL * KERNEL) as f64).sqrt();
        let init = Init::Uniform {
            lo: -limit,
            up: limit,
        };
        let k = KERNEL as i64;
        Conv2d {
            weight: p.var("weight", &[cout as i64, cin as i64, k, k], init),
            bias: p.var("bias", &[cout as i64], init),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let pad = (KERNEL / 2) as i64;
        x.conv2d(
            &self.weight,
            Some(&self.bias),
            [1, 1],
            [pad, pad],
            [1, 1],
            1,
        )
    }

    fn export(&self) -> Result<ConvLayer> {
        let s = self.weight.size();
        Ok(ConvLayer {
            shape: Conv {
                cin: s[1] as usize,
                cout: s[0] as usize,
                k: s[2] as usize,
            },
            weight: tensor_values(&self.weight)?,
            bias: tensor_values(&self.bias)?,
        })
    }
}

/// The network.
pub struct NerviNet {
    pub shape: NerviShape,
    blocks: [Block; 2],
    upscale: Vec<(usize, Conv2d)>,
    head: Conv2d,
}

impl NerviNet {
    pub fn new(vs: &VarStore, shape: NerviShape) -> NerviNet {
        let p = vs.root();
        let (e, c1, f) = (shape.encoded(), shape.width, shape.map_features());
        let blocks = [
            Block::new(&(&p / "mlp0"), e, c1, true),
            Block::new(&(&p / "mlp1"), c1, f, false),
        ];
        let mut c = shape.reshape[0];
        let upscale = (shape.blocks.iter().enumerate())
            .map(|(i, &(r, out))| {
                let conv = Conv2d::new(&(&p / format!("up{i}")), c, out * r * r);
                c = out;
                (r, conv)
            })
            .collect();
        let head = Conv2d::new(&(&p / "head"), c, OUTPUTS);
        NerviNet {
            shape,
            blocks,
            upscale,
            head,
        }
    }

    /// `[B, inputs]` normalized inputs to `[B, 4, H, W]` outputs, [-1, 1]
    /// meaning [0, 1].
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let mut h = encode(x, self.shape.levels);
        for b in &self.blocks {
            h = b.forward(&h);
        }
        let [c0, h0, w0] = self.shape.reshape.map(|v| v as i64);
        let mut map = h.view([-1, c0, h0, w0]);
        for (r, conv) in &self.upscale {
            map = conv.forward(&map).pixel_shuffle(*r as i64).gelu("none");
        }
        self.head.forward(&map)
    }

    /// The network as the decoder's model, with the file's normalization.
    pub fn export(&self, input_scale: Vec<f64>, input_shift: Vec<f64>) -> Result<Nervi> {
        let upscale = (self.upscale.iter())
            .map(|(r, c)| {
                Ok(Upscale {
                    factor: *r,
                    conv: c.export()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Nervi {
            inputs: self.shape.inputs,
            input_scale,
            input_shift,
            encoding: Some(Fourier {
                base: BASE,
                levels: self.shape.levels,
                include_input: false,
            }),
            mlp: vec![self.blocks[0].export()?, self.blocks[1].export()?],
            reshape: self.shape.reshape,
            upscale,
            head: self.head.export()?,
            tanh: false,
            composite: None,
        })
    }
}

/// Per input, `sin(BASE^l π x)`, `cos(BASE^l π x)` for `l < levels`, in the
/// decoder's order.
fn encode(x: &Tensor, levels: usize) -> Tensor {
    let freq: Vec<f64> = (0..levels)
        .map(|l| BASE.powi(l as i32) * std::f64::consts::PI)
        .collect();
    let freq = Tensor::from_slice(&freq)
        .to_kind(Kind::Float)
        .to_device(x.device());
    let a = x.unsqueeze(2) * freq.view([1, 1, -1]); // [B, inputs, levels]
    let pairs = Tensor::stack(&[a.sin(), a.cos()], 3); // [B, inputs, levels, 2]
    pairs.view([x.size()[0], -1])
}

/// Min-max quantization of every tensor to `2^bits` evenly spaced values
/// (NeRVI's Eq. 3), in place; the writer then stores each as a table of its
/// levels and bit-packed indices.
pub fn quantize(vs: &VarStore, bits: u8) {
    let _guard = tch::no_grad_guard();
    let steps = ((1u64 << bits) - 1) as f64;
    for (_, mut t) in vs.variables() {
        let (lo, hi) = (t.min().double_value(&[]), t.max().double_value(&[]));
        if hi > lo {
            let step = (hi - lo) / steps;
            let q = ((&t - lo) / step).round() * step + lo;
            t.copy_(&q);
        }
    }
}

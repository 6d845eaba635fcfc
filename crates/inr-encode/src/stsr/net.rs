//! The STSR-INR network in libtorch, with the decoder's math
//! (`inr_core::model::stsr`): a synthesis and a modulator network of one
//! sine layer and residual sine blocks each, the modulator's activations
//! multiplying the synthesis ones after every stage, then `H` stacked
//! heads (sine layers and a linear layer, weights `[H, out, in]`).

use tch::nn::{Init, Path, VarStore};
use tch::{Kind, Tensor};

use inr_core::error::{Error, Result};
use inr_core::model::stacked::StackedLayer;
use inr_core::model::{Dense as CoreDense, Layer};

use crate::levels::Levels;
use crate::param::Param;
use crate::tensor_values;

/// The paper's frequency of every sine layer with multiple heads.
pub const W0: f64 = 5.0;

/// The network's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetShape {
    /// 4 with time, 3 without.
    pub inputs: usize,
    pub latent_dim: usize,
    pub width: usize,
    /// Residual blocks of each network.
    pub blocks: usize,
    pub heads: usize,
    /// Sine layers of each head before its linear layer.
    pub head_sines: usize,
    /// `K`: the most components of a variable.
    pub outputs: usize,
    pub variables: usize,
}

impl NetShape {
    /// Element counts of the tensors [`StsrNet::quantized`] walks: each
    /// stage's synthesis then modulator layers, then the heads' layers.
    pub fn tensor_sizes(&self) -> Vec<usize> {
        let (w, h, k) = (self.width, self.heads, self.outputs);
        let mut sizes = vec![self.inputs * w, w, self.latent_dim * w, w];
        for _ in 0..4 * self.blocks {
            sizes.extend([w * w, w]);
        }
        for _ in 0..self.head_sines {
            sizes.extend([h * w * w, h * w]);
        }
        sizes.extend([h * k * w, h * k]);
        sizes
    }

    /// Parameters, the latents included.
    pub fn parameters(&self) -> u64 {
        let tensors: usize = self.tensor_sizes().iter().sum();
        (tensors + self.variables * self.latent_dim) as u64
    }
}

/// One dense layer, plain (`[out, in]`, `[out]`) or stacked (`[H, out,
/// in]`, `[H, out]`).
#[derive(Debug)]
struct Dense {
    weight: Param,
    bias: Param,
}

impl Dense {
    /// SIREN initialization: weights U(-limit, limit), biases
    /// U(-1/sqrt(in), 1/sqrt(in)); `stack` heads when given.
    fn new(p: &Path, stack: Option<usize>, inp: usize, out: usize, limit: f64) -> Dense {
        let b = 1.0 / (inp as f64).sqrt();
        let lead: Vec<i64> = stack.map(|h| h as i64).into_iter().collect();
        let shape = |rest: &[i64]| [lead.as_slice(), rest].concat();
        let (lo, up) = (-limit, limit);
        Dense {
            weight: Param::Free(p.var(
                "weight",
                &shape(&[out as i64, inp as i64]),
                Init::Uniform { lo, up },
            )),
            bias: Param::Free(p.var(
                "bias",
                &shape(&[out as i64]),
                Init::Uniform { lo: -b, up: b },
            )),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight.value(), Some(&self.bias.value()))
    }

    /// `x` `[B, in]` or `[H, B, in]` through every stacked head: `[H, B, out]`.
    fn forward_stacked(&self, x: &Tensor) -> Tensor {
        x.matmul(&self.weight.value().transpose(1, 2)) + self.bias.value().unsqueeze(1)
    }

    /// `x` `[B, in]` through stacked head `h`.
    fn forward_head(&self, h: i64, x: &Tensor) -> Tensor {
        x.linear(&self.weight.value().get(h), Some(&self.bias.value().get(h)))
    }

    fn quantized(
        &self,
        p: &Path,
        levels: &mut impl Iterator<Item = Option<usize>>,
    ) -> Result<Dense> {
        Ok(Dense {
            weight: self.weight.quantized(p, "weight", next(levels)?)?,
            bias: self.bias.quantized(p, "bias", next(levels)?)?,
        })
    }

    fn export(&self) -> Result<CoreDense> {
        let size = self.weight.value().size();
        Ok(CoreDense {
            out_features: size[0] as usize,
            in_features: size[1] as usize,
            weight: self.weight.values()?,
            bias: self.bias.values()?,
        })
    }

    fn export_stacked(&self, w0: Option<f64>) -> Result<StackedLayer> {
        let size = self.weight.value().size();
        Ok(StackedLayer {
            w0: w0.map(|w| w as f32),
            mlps: size[0] as usize,
            out_features: size[1] as usize,
            in_features: size[2] as usize,
            weight: self.weight.values()?,
            bias: self.bias.values()?,
        })
    }
}

fn next(levels: &mut impl Iterator<Item = Option<usize>>) -> Result<Option<usize>> {
    levels
        .next()
        .ok_or_else(|| Error::Shape("fewer levels than tensors".into()))
}

/// A sine layer or a residual sine block.
#[derive(Debug)]
enum Stage {
    Sine(Dense),
    Residual(Dense, Dense),
}

impl Stage {
    fn forward(&self, x: &Tensor) -> Tensor {
        match self {
            Stage::Sine(d) => (d.forward(x) * W0).sin(),
            Stage::Residual(a, b) => {
                let inner = (a.forward(x) * W0).sin();
                (x + (b.forward(&inner) * W0).sin()) * 0.5
            }
        }
    }

    fn quantized(
        &self,
        p: &Path,
        levels: &mut impl Iterator<Item = Option<usize>>,
    ) -> Result<Stage> {
        Ok(match self {
            Stage::Sine(d) => Stage::Sine(d.quantized(&(p / "a"), levels)?),
            Stage::Residual(a, b) => Stage::Residual(
                a.quantized(&(p / "a"), levels)?,
                b.quantized(&(p / "b"), levels)?,
            ),
        })
    }

    fn export(&self) -> Result<Layer> {
        let w0 = W0 as f32;
        Ok(match self {
            Stage::Sine(d) => Layer::Sine {
                w0,
                dense: d.export()?,
            },
            Stage::Residual(a, b) => Layer::ResidualSine {
                w0: [w0, w0],
                first: a.export()?,
                second: b.export()?,
            },
        })
    }
}

/// The trainable network; its variables live in the [`VarStore`] it was
/// built with.
#[derive(Debug)]
pub struct StsrNet {
    pub shape: NetShape,
    /// `[variables, latent_dim]`: the latents' means `μ`.
    pub mu: Tensor,
    /// `(synthesis, modulator)` per stage.
    stages: Vec<(Stage, Stage)>,
    /// Stacked sine layers, then the linear one.
    heads: Vec<Dense>,
}

/// The latents, the `(synthesis, modulator)` stages and the stacked head
/// layers, as the file stores them.
pub type Exported = (Vec<f32>, Vec<(Layer, Layer)>, Vec<StackedLayer>);

/// The results of the modulator: per stage `[rows, width]`.
pub type Modulations = Vec<Tensor>;

impl StsrNet {
    /// A freshly initialized network (libtorch's generator).
    pub fn new(vs: &VarStore, shape: NetShape) -> StsrNet {
        let root = vs.root();
        let w = shape.width;
        let hidden = (6.0 / w as f64).sqrt() / W0;
        let mu = root.var(
            "mu",
            &[shape.variables as i64, shape.latent_dim as i64],
            Init::Randn {
                mean: 0.0,
                stdev: 1.0,
            },
        );
        let first =
            |p: &Path, inp: usize| Stage::Sine(Dense::new(p, None, inp, w, 1.0 / inp as f64));
        let block = |p: &Path| {
            Stage::Residual(
                Dense::new(&(p / "a"), None, w, w, hidden),
                Dense::new(&(p / "b"), None, w, w, hidden),
            )
        };
        let mut stages = vec![(
            first(&(&root / "syn0" / "a"), shape.inputs),
            first(&(&root / "mod0" / "a"), shape.latent_dim),
        )];
        for i in 1..=shape.blocks {
            stages.push((
                block(&(&root / format!("syn{i}"))),
                block(&(&root / format!("mod{i}"))),
            ));
        }
        let h = Some(shape.heads);
        let mut heads: Vec<Dense> = (0..shape.head_sines)
            .map(|i| Dense::new(&(&root / format!("head{i}")), h, w, w, hidden))
            .collect();
        let last = &root / format!("head{}", shape.head_sines);
        heads.push(Dense::new(&last, h, w, shape.outputs, hidden));
        StsrNet {
            shape,
            mu,
            stages,
            heads,
        }
    }

    /// The modulator's activations for `latents` `[rows, latent_dim]`.
    pub fn modulations(&self, latents: &Tensor) -> Modulations {
        let mut m = latents.shallow_clone();
        (self.stages.iter())
            .map(|(_, modulator)| {
                m = modulator.forward(&m);
                m.shallow_clone()
            })
            .collect()
    }

    /// The synthesis features `[B, width]` of inputs `x` `[B, inputs]`,
    /// each row modulated by the row `rows` picks of `mods` (or by the one
    /// row of `mods`, broadcast, without `rows`).
    pub fn features(&self, x: &Tensor, mods: &Modulations, rows: Option<&Tensor>) -> Tensor {
        let mut h = x.shallow_clone();
        for ((synthesis, _), m) in self.stages.iter().zip(mods) {
            h = synthesis.forward(&h);
            h = match rows {
                Some(r) => h * m.index_select(0, r),
                None => h * m,
            };
        }
        h
    }

    /// Features `[B, width]` through every head: `[H, B, outputs]`.
    pub fn all_heads(&self, features: &Tensor) -> Tensor {
        let (last, sines) = self.heads.split_last().expect("a linear layer");
        let mut h = features.unsqueeze(0);
        for l in sines {
            h = (l.forward_stacked(&h) * W0).sin();
        }
        last.forward_stacked(&h)
    }

    /// Features `[B, width]` through head `head`: `[B, outputs]`.
    pub fn head(&self, head: usize, features: &Tensor) -> Tensor {
        let (last, sines) = self.heads.split_last().expect("a linear layer");
        let mut h = features.shallow_clone();
        for l in sines {
            h = (l.forward_head(head as i64, &h) * W0).sin();
        }
        last.forward_head(head as i64, &h)
    }

    /// The network with each tensor k-means quantized to its `levels`
    /// (f32 where `None`), as variables of `vs`; the latents stay free.
    pub fn quantized(&self, vs: &VarStore, levels: &Levels) -> Result<StsrNet> {
        if levels.0.len() != self.shape.tensor_sizes().len() {
            return Err(Error::Shape(format!(
                "{} levels for {} tensors",
                levels.0.len(),
                self.shape.tensor_sizes().len()
            )));
        }
        let root = vs.root();
        let mut it = levels.0.iter().copied();
        let mut stages = Vec::new();
        for (i, (s, m)) in self.stages.iter().enumerate() {
            let s = s.quantized(&(&root / format!("syn{i}")), &mut it)?;
            let m = m.quantized(&(&root / format!("mod{i}")), &mut it)?;
            stages.push((s, m));
        }
        let heads = (self.heads.iter().enumerate())
            .map(|(i, l)| l.quantized(&(&root / format!("head{i}")), &mut it))
            .collect::<Result<_>>()?;
        Ok(StsrNet {
            shape: self.shape,
            mu: root.var_copy("mu", &self.mu.detach().to_kind(Kind::Float)),
            stages,
            heads,
        })
    }

    /// The latents `[variables x latent_dim]`, the stages and the stacked
    /// head layers as the file stores them.
    pub fn export(&self) -> Result<Exported> {
        let stages = (self.stages.iter())
            .map(|(s, m)| Ok((s.export()?, m.export()?)))
            .collect::<Result<_>>()?;
        let n = self.heads.len();
        let heads = (self.heads.iter().enumerate())
            .map(|(i, l)| l.export_stacked((i + 1 < n).then_some(W0)))
            .collect::<Result<_>>()?;
        Ok((tensor_values(&self.mu)?, stages, heads))
    }
}

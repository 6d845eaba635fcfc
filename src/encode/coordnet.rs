//! CoordNetB networks in libtorch, many of one shape trained at once: every
//! weight is a `[K, out, in]` tensor (one slice per cluster) and a
//! minibatch is `[K, B, inputs]`, so the clusters of MC-INR train in
//! parallel on the device with batched matrix products. The math is the
//! decoder's (`crate::model::mc_inr`): a trunk of a sine layer and residual
//! sine blocks, then per variable a branch of residual blocks and a linear
//! head.

use tch::nn::{Init, Path, VarStore};
use tch::{Device, Kind, Tensor};

use crate::error::Result;
use crate::format::writer::codebook_pays;
use crate::model::{CoordNetB, Dense, Layer};
use crate::quantize::kmeans_1d;

use super::siren::W0;
use super::tch_error;

/// The shape of every network of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoordShape {
    pub inputs: usize,
    pub width: usize,
    pub trunk_blocks: usize,
    pub branch_blocks: usize,
    /// Outputs of each variable's branch.
    pub components: Vec<usize>,
}

impl CoordShape {
    /// Parameters of one network.
    pub fn parameters(&self) -> u64 {
        let (k, w) = (self.inputs as u64, self.width as u64);
        let block = 2 * (w * w + w);
        let trunk = k * w + w + self.trunk_blocks as u64 * block;
        let branches: u64 = self
            .components
            .iter()
            .map(|&c| self.branch_blocks as u64 * block + w * c as u64 + c as u64)
            .sum();
        trunk + branches
    }

    /// Sum of the branches' outputs.
    pub fn outputs(&self) -> usize {
        self.components.iter().sum()
    }
}

/// `K` dense layers: weight `[K, out, in]`, bias `[K, 1, out]`.
#[derive(Debug)]
struct Batched {
    weight: Tensor,
    bias: Tensor,
}

impl Batched {
    /// SIREN initialization of each slice, as the residual SIREN's.
    fn new(p: &Path, k: usize, inp: usize, out: usize, limit: f64) -> Batched {
        let b = 1.0 / (inp as f64).sqrt();
        Batched {
            weight: p.var(
                "weight",
                &[k as i64, out as i64, inp as i64],
                Init::Uniform {
                    lo: -limit,
                    up: limit,
                },
            ),
            bias: p.var(
                "bias",
                &[k as i64, 1, out as i64],
                Init::Uniform { lo: -b, up: b },
            ),
        }
    }

    /// `x` `[K, B, in]` to `[K, B, out]`.
    fn forward(&self, x: &Tensor) -> Tensor {
        self.bias.baddbmm(x, &self.weight.transpose(1, 2), 1.0, 1.0)
    }

    /// The slices `rows` (cluster indices, repeats allowed) as variables of `p`.
    fn select(&self, p: &Path, rows: &Tensor) -> Batched {
        let pick = |t: &Tensor| t.detach().index_select(0, rows);
        Batched {
            weight: p.var_copy("weight", &pick(&self.weight)),
            bias: p.var_copy("bias", &pick(&self.bias)),
        }
    }

    /// Slice `i` as the decoder's dense layer.
    fn export(&self, i: usize) -> Result<Dense> {
        let w = self.weight.get(i as i64);
        let size = w.size();
        let values = |t: Tensor| -> Result<Vec<f32>> {
            let t = t
                .detach()
                .to_device(Device::Cpu)
                .to_kind(Kind::Float)
                .contiguous();
            Vec::<f32>::try_from(&t.view(-1)).map_err(tch_error)
        };
        Ok(Dense {
            out_features: size[0] as usize,
            in_features: size[1] as usize,
            weight: values(w)?,
            bias: values(self.bias.get(i as i64).view(-1))?,
        })
    }

    /// Replaces each slice's weight and bias values by their k-means
    /// codebook of `2^bits` values where the file will store a codebook
    /// (deep compression's quantization, without fine-tuning).
    fn quantize(&mut self, bits: u8) -> Result<()> {
        let _guard = tch::no_grad_guard();
        for t in [&mut self.weight, &mut self.bias] {
            for i in 0..t.size()[0] {
                let mut slice = t.get(i);
                let shape = slice.size();
                let cpu = slice.detach().to_device(Device::Cpu).contiguous().view(-1);
                let values = Vec::<f32>::try_from(&cpu).map_err(tch_error)?;
                if !codebook_pays(values.len(), bits) {
                    continue;
                }
                let q = kmeans_1d(&values, 1 << bits);
                let snapped: Vec<f32> = q.indices.iter().map(|&j| q.codebook[j as usize]).collect();
                let new = Tensor::from_slice(&snapped)
                    .view(shape.as_slice())
                    .to_device(slice.device());
                slice.copy_(&new);
            }
        }
        Ok(())
    }
}

/// A residual block of two batched layers.
type Block = (Batched, Batched);

fn block_forward(b: &Block, h: &Tensor) -> Tensor {
    let inner = (b.0.forward(h) * W0).sin();
    (h + (b.1.forward(&inner) * W0).sin()) * 0.5
}

/// `K` CoordNetB networks of one shape.
#[derive(Debug)]
pub struct GroupedNet {
    pub k: usize,
    pub shape: CoordShape,
    first: Batched,
    trunk: Vec<Block>,
    branches: Vec<(Vec<Block>, Batched)>,
}

impl GroupedNet {
    /// `k` freshly initialized networks (libtorch's generator).
    pub fn new(vs: &VarStore, k: usize, shape: &CoordShape) -> GroupedNet {
        let root = vs.root();
        let w = shape.width;
        let hidden = (6.0 / w as f64).sqrt() / W0;
        let block = |p: &Path| {
            (
                Batched::new(&(p / "1"), k, w, w, hidden),
                Batched::new(&(p / "2"), k, w, w, hidden),
            )
        };
        let first = Batched::new(
            &(&root / "first"),
            k,
            shape.inputs,
            w,
            1.0 / shape.inputs as f64,
        );
        let trunk = (0..shape.trunk_blocks)
            .map(|i| block(&(&root / format!("trunk{i}"))))
            .collect();
        let branches = shape
            .components
            .iter()
            .enumerate()
            .map(|(v, &c)| {
                let p = &root / format!("branch{v}");
                let blocks = (0..shape.branch_blocks)
                    .map(|i| block(&(&p / format!("block{i}"))))
                    .collect();
                (blocks, Batched::new(&(&p / "head"), k, w, c, hidden))
            })
            .collect();
        GroupedNet {
            k,
            shape: shape.clone(),
            first,
            trunk,
            branches,
        }
    }

    /// `x` `[K, B, inputs]` (normalized) to `[K, B, outputs]` in [-1, 1] units.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let mut h = (self.first.forward(x) * W0).sin();
        for b in &self.trunk {
            h = block_forward(b, &h);
        }
        let outs: Vec<Tensor> = self
            .branches
            .iter()
            .map(|(blocks, head)| {
                let mut g = h.shallow_clone();
                for b in blocks {
                    g = block_forward(b, &g);
                }
                head.forward(&g)
            })
            .collect();
        Tensor::cat(&outs, 2)
    }

    /// The networks `rows` (repeats allowed: a split cluster's two children
    /// start from its weights) as variables of `vs`.
    pub fn select(&self, vs: &VarStore, rows: &[usize]) -> GroupedNet {
        let root = vs.root();
        let idx: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
        let idx = Tensor::from_slice(&idx).to_device(vs.device());
        let block =
            |b: &Block, p: &Path| (b.0.select(&(p / "1"), &idx), b.1.select(&(p / "2"), &idx));
        GroupedNet {
            k: rows.len(),
            shape: self.shape.clone(),
            first: self.first.select(&(&root / "first"), &idx),
            trunk: self
                .trunk
                .iter()
                .enumerate()
                .map(|(i, b)| block(b, &(&root / format!("trunk{i}"))))
                .collect(),
            branches: self
                .branches
                .iter()
                .enumerate()
                .map(|(v, (blocks, head))| {
                    let p = &root / format!("branch{v}");
                    (
                        blocks
                            .iter()
                            .enumerate()
                            .map(|(i, b)| block(b, &(&p / format!("block{i}"))))
                            .collect(),
                        head.select(&(&p / "head"), &idx),
                    )
                })
                .collect(),
        }
    }

    /// The networks of `nets` (all of this shape), one after another, as
    /// one group of variables of `vs`.
    pub fn concat(vs: &VarStore, nets: &[GroupedNet]) -> GroupedNet {
        let root = vs.root();
        let cat = |get: &dyn Fn(&GroupedNet) -> &Batched, p: &Path| {
            let join = |t: &dyn Fn(&Batched) -> &Tensor| {
                Tensor::cat(
                    &nets.iter().map(|n| t(get(n)).detach()).collect::<Vec<_>>(),
                    0,
                )
            };
            Batched {
                weight: p.var_copy("weight", &join(&|b| &b.weight)),
                bias: p.var_copy("bias", &join(&|b| &b.bias)),
            }
        };
        let first = &nets[0];
        let block = |get: &dyn Fn(&GroupedNet) -> &Block, p: &Path| {
            (
                cat(&|n| &get(n).0, &(p / "1")),
                cat(&|n| &get(n).1, &(p / "2")),
            )
        };
        GroupedNet {
            k: nets.iter().map(|n| n.k).sum(),
            shape: first.shape.clone(),
            first: cat(&|n| &n.first, &(&root / "first")),
            trunk: (0..first.trunk.len())
                .map(|i| block(&|n| &n.trunk[i], &(&root / format!("trunk{i}"))))
                .collect(),
            branches: (0..first.branches.len())
                .map(|v| {
                    let p = &root / format!("branch{v}");
                    (
                        (0..first.branches[v].0.len())
                            .map(|i| block(&|n| &n.branches[v].0[i], &(&p / format!("block{i}"))))
                            .collect(),
                        cat(&|n| &n.branches[v].1, &(&p / "head")),
                    )
                })
                .collect(),
        }
    }

    /// Quantizes every network's tensors in place (see [`Batched::quantize`]).
    pub fn quantize(&mut self, bits: u8) -> Result<()> {
        self.first.quantize(bits)?;
        for (a, b) in &mut self.trunk {
            a.quantize(bits)?;
            b.quantize(bits)?;
        }
        for (blocks, head) in &mut self.branches {
            for (a, b) in blocks {
                a.quantize(bits)?;
                b.quantize(bits)?;
            }
            head.quantize(bits)?;
        }
        Ok(())
    }

    /// Network `i` as the decoder's CoordNetB, with its input normalization.
    pub fn export(
        &self,
        i: usize,
        input_scale: Vec<f64>,
        input_shift: Vec<f64>,
    ) -> Result<CoordNetB> {
        let w0 = W0 as f32;
        let block = |b: &Block| -> Result<Layer> {
            Ok(Layer::ResidualSine {
                w0: [w0, w0],
                first: b.0.export(i)?,
                second: b.1.export(i)?,
            })
        };
        let mut trunk = vec![Layer::Sine {
            w0,
            dense: self.first.export(i)?,
        }];
        for b in &self.trunk {
            trunk.push(block(b)?);
        }
        let branches = self
            .branches
            .iter()
            .map(|(blocks, head)| {
                let mut layers = blocks.iter().map(block).collect::<Result<Vec<_>>>()?;
                layers.push(Layer::Linear {
                    dense: head.export(i)?,
                });
                Ok(layers)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(CoordNetB {
            input_scale,
            input_shift,
            trunk,
            branches,
        })
    }
}

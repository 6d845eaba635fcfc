//! CoordNetB networks in libtorch, many of one shape trained at once: every
//! weight is a `[K, out, in]` tensor (one slice per cluster) and a
//! minibatch is `[K, B, inputs]`, so the clusters of MC-INR train in
//! parallel on the device with batched matrix products. The math is the
//! decoder's (`inr_core::model::mc_inr`): a trunk of a sine layer and residual
//! sine blocks, then per variable a branch of residual blocks and a linear
//! head.

use tch::nn::{Init, Path, VarStore};
use tch::Tensor;

use inr_core::error::Result;
use inr_core::model::{CoordNetB, Dense, Layer};

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
    /// When set, a handle on the table variable that every tied layer of
    /// a role shares: the weight is used as its nearest entry of the table
    /// (deep compression's fine-tuning of a codebook the file shares, the
    /// table and the weights both trained; see
    /// `super::straight_through`).
    tied: Option<Tensor>,
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
            tied: None,
        }
    }

    /// The weight `[K, out, in]`: the variable, or drawn from its table.
    fn weight(&self) -> Tensor {
        match &self.tied {
            None => self.weight.shallow_clone(),
            Some(table) => super::straight_through::drawn(table, &self.weight),
        }
    }

    /// `x` `[K, B, in]` to `[K, B, out]`.
    fn forward(&self, x: &Tensor) -> Tensor {
        self.bias
            .baddbmm(x, &self.weight().transpose(1, 2), 1.0, 1.0)
    }

    /// The slices `rows` (cluster indices, repeats allowed) as variables of
    /// `p`, free of any table.
    fn select(&self, p: &Path, rows: &Tensor) -> Batched {
        let pick = |t: &Tensor| t.detach().index_select(0, rows);
        Batched {
            weight: p.var_copy("weight", &pick(&self.weight())),
            bias: p.var_copy("bias", &pick(&self.bias)),
            tied: None,
        }
    }

    /// Draws the weight from `table` (a variable shared by the layers of
    /// its role), at the entries nearest its values.
    fn tie(&mut self, table: &Tensor) {
        self.tied = Some(table.shallow_clone());
    }

    /// Slice `i` as the decoder's dense layer.
    fn export(&self, i: usize) -> Result<Dense> {
        let w = self.weight().get(i as i64);
        let size = w.size();
        Ok(Dense {
            out_features: size[0] as usize,
            in_features: size[1] as usize,
            weight: crate::tensor_values(&w)?,
            bias: crate::tensor_values(&self.bias.get(i as i64))?,
        })
    }
}

impl Batched {
    /// Sets slice `i` to the decoder's dense layer `d` (its inverse of
    /// [`Batched::export`]).
    fn import(&self, i: usize, d: &Dense) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let set = |t: &Tensor, values: &[f32]| -> Result<()> {
            let mut slice = t.get(i as i64);
            let new = Tensor::f_from_slice(values)
                .and_then(|v| v.f_view(slice.size().as_slice()))
                .and_then(|v| v.f_to_device(slice.device()))
                .map_err(tch_error)?;
            slice.f_copy_(&new).map_err(tch_error)
        };
        set(&self.weight, &d.weight)?;
        set(&self.bias, &d.bias)
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
            let join = |t: &dyn Fn(&Batched) -> Tensor| {
                Tensor::cat(
                    &nets.iter().map(|n| t(get(n)).detach()).collect::<Vec<_>>(),
                    0,
                )
            };
            Batched {
                weight: p.var_copy("weight", &join(&|b| b.weight())),
                bias: p.var_copy("bias", &join(&|b| b.bias.shallow_clone())),
                tied: None,
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

    /// Ties the weights that the file quantizes with shared codebooks
    /// (the hidden layers' and the heads'; see
    /// `inr_core::model::shared_codebook`) to one table variable per role of
    /// `vs`, starting at `hidden` and `head` (their levels; `None` where
    /// the file keeps the role f32, which then stays free). The first layer
    /// and the biases stay free too: training this fine-tunes all the file
    /// stores after quantization, as deep compression does.
    pub fn tie_to_tables(&mut self, vs: &VarStore, hidden: Option<&[f32]>, head: Option<&[f32]>) {
        let root = vs.root();
        let table = |name: &str, levels: Option<&[f32]>| {
            levels.map(|l| root.var_copy(name, &Tensor::from_slice(l)))
        };
        let hidden = table("hidden_table", hidden);
        let head = table("head_table", head);
        let tie = |layer: &mut Batched, table: &Option<Tensor>| {
            if let Some(t) = table {
                layer.tie(t);
            }
        };
        for (a, b) in &mut self.trunk {
            tie(a, &hidden);
            tie(b, &hidden);
        }
        for (blocks, h) in &mut self.branches {
            for (a, b) in blocks {
                tie(a, &hidden);
                tie(b, &hidden);
            }
            tie(h, &head);
        }
    }

    /// Sets network `i` to the weights of `net` (of this group's shape), as
    /// after quantizing an exported network.
    pub fn import(&self, i: usize, net: &CoordNetB) -> Result<()> {
        let mut layers = net.trunk.iter().chain(net.branches.iter().flatten());
        let mut batched = vec![&self.first];
        for (a, b) in &self.trunk {
            batched.extend([a, b]);
        }
        for (blocks, head) in &self.branches {
            for (a, b) in blocks {
                batched.extend([a, b]);
            }
            batched.push(head);
        }
        let mut denses = Vec::new();
        for l in &mut layers {
            match l {
                Layer::Sine { dense, .. } | Layer::Linear { dense } => denses.push(dense),
                Layer::ResidualSine { first, second, .. } => denses.extend([first, second]),
            }
        }
        if denses.len() != batched.len() {
            return Err(inr_core::error::Error::Shape(format!(
                "{} dense layers for a group of {}",
                denses.len(),
                batched.len()
            )));
        }
        for (b, d) in batched.into_iter().zip(denses) {
            b.import(i, d)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::{self, OptimizerConfig};
    use tch::{Device, Kind};

    fn distinct(v: &[f32]) -> usize {
        let mut v = v.to_vec();
        v.sort_by(f32::total_cmp);
        v.dedup();
        v.len()
    }

    /// Tied weights keep the network's function, then train as a shared
    /// table: after a step every hidden weight of every network is still
    /// one of the table's few levels (moved), and the free parts moved too.
    #[test]
    fn tied_weights_train_as_one_shared_table() {
        tch::manual_seed(5);
        let shape = CoordShape {
            inputs: 3,
            width: 8,
            trunk_blocks: 2,
            branch_blocks: 1,
            components: vec![1, 2],
        };
        let vs = VarStore::new(Device::Cpu);
        let free = GroupedNet::new(&vs, 3, &shape);
        // Quantize the hidden weights of all three networks to 4 levels.
        let levels = [-0.04f32, -0.01, 0.01, 0.04];
        let mut nets: Vec<CoordNetB> = (0..3)
            .map(|i| free.export(i, vec![1.0; 3], vec![0.0; 3]).unwrap())
            .collect();
        for net in &mut nets {
            for l in net
                .trunk
                .iter_mut()
                .skip(1)
                .chain(net.branches.iter_mut().flatten())
            {
                if let Layer::ResidualSine { first, second, .. } = l {
                    for w in first.weight.iter_mut().chain(second.weight.iter_mut()) {
                        *w = levels[inr_core::quantize::nearest(&levels, *w) as usize];
                    }
                }
            }
        }
        let tvs = VarStore::new(Device::Cpu);
        let mut tied = free.select(&tvs, &[0, 1, 2]);
        for (i, n) in nets.iter().enumerate() {
            tied.import(i, n).unwrap();
        }
        let x = Tensor::rand([3, 16, 3], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let before = tied.forward(&x).detach();
        tied.tie_to_tables(&tvs, Some(&levels), None);
        assert!(
            f64::try_from((tied.forward(&x) - &before).abs().max()).unwrap() < 1e-6,
            "tying keeps the function"
        );
        let mut opt = nn::Adam::default().build(&tvs, 1e-3).unwrap();
        opt.backward_step(&tied.forward(&x).square().mean(Kind::Float));
        let after: Vec<CoordNetB> = (0..3)
            .map(|i| tied.export(i, vec![1.0; 3], vec![0.0; 3]).unwrap())
            .collect();
        let mut hidden = Vec::new();
        for (a, b) in after.iter().zip(&nets) {
            for l in a.trunk.iter().skip(1).chain(a.branches.iter().flatten()) {
                if let Layer::ResidualSine { first, second, .. } = l {
                    hidden.extend(first.weight.iter().chain(&second.weight));
                }
            }
            assert_ne!(a.trunk[0], b.trunk[0], "the first layer trains");
            assert_ne!(
                a.branches[0].last(),
                b.branches[0].last(),
                "untied heads train"
            );
        }
        assert_eq!(distinct(&hidden), 4, "one table of four levels for all");
        assert!(
            hidden.iter().all(|v| !levels.contains(v)),
            "the levels moved"
        );
    }

    /// Straight-through tying: the forward pass uses each weight's nearest
    /// table entry, and training may move a weight to another level,
    /// which fixed indices never do.
    #[test]
    fn straight_through_weights_draw_the_nearest_level_and_may_change_it() {
        tch::manual_seed(6);
        let shape = CoordShape {
            inputs: 3,
            width: 8,
            trunk_blocks: 2,
            branch_blocks: 0,
            components: vec![1],
        };
        let vs = VarStore::new(Device::Cpu);
        let free = GroupedNet::new(&vs, 2, &shape);
        let levels = [-0.3f32, -0.1, 0.1, 0.3];
        let hidden_of = |net: &GroupedNet| -> Vec<f32> {
            let mut out = Vec::new();
            for i in 0..2 {
                let n = net.export(i, vec![1.0; 3], vec![0.0; 3]).unwrap();
                for l in n.trunk.iter().skip(1) {
                    if let Layer::ResidualSine { first, second, .. } = l {
                        out.extend(first.weight.iter().chain(&second.weight));
                    }
                }
            }
            out
        };
        let raw = hidden_of(&free);
        let tvs = VarStore::new(Device::Cpu);
        let mut tied = free.select(&tvs, &[0, 1]);
        tied.tie_to_tables(&tvs, Some(&levels), None);
        let snapped = hidden_of(&tied);
        for (r, q) in raw.iter().zip(&snapped) {
            let nearest = levels[inr_core::quantize::nearest(&levels, *r) as usize];
            assert_eq!(*q, nearest, "{r} draws its nearest level");
        }
        let x = Tensor::rand([2, 32, 3], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let mut opt = nn::Adam::default().build(&tvs, 0.05).unwrap();
        for _ in 0..20 {
            opt.backward_step(&(tied.forward(&x) - 0.5).square().mean(Kind::Float));
        }
        let after = hidden_of(&tied);
        let table = Vec::<f32>::try_from(&tvs.variables()["hidden_table"]).unwrap();
        let entry = |v: f32, t: &[f32]| t.iter().position(|&l| l == v).expect("a table value");
        let moved = snapped
            .iter()
            .zip(&after)
            .filter(|(a, b)| entry(**a, &levels) != entry(**b, &table))
            .count();
        assert!(table != levels, "the table trains");
        assert!(moved > 0, "some weight moved to another level");
    }
}

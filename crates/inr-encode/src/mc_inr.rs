//! The MC-INR encoder (seed 001): k-means clusters of the sites, a
//! meta-learned initialization (Reptile over subsamples of every cluster),
//! one CoordNetB per cluster trained on its points (all clusters at once,
//! batched), residual-based re-clustering (a cluster whose error stays above
//! the threshold splits in two by 2-means, both children starting from its
//! weights), and, with a blend width, overlapping training sets so that the
//! decoder's blend across cluster borders reproduces the data there.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tch::nn::{self, OptimizerConfig, VarStore};
use tch::{Device, Kind, Tensor};

use crate::cluster::weighted_kmeans;
use inr_core::error::{Error, Result};
use inr_core::model::mc_inr::ClusterTree;
use inr_core::model::{shared_codebook, McInr};

use super::clock::Clock;
use super::coordnet::{CoordShape, GroupedNet};
use super::data::Samples;
use super::export::WriteWeights;
use super::pipeline::{self, Common, Family};
use super::progress::{Phase, Progress};
use super::quality::{self, VariableQuality};
use super::report::{Details, EncodeReport};
use super::size::{self, Size, SizeModel};
use super::tch_error;
use super::train::{self, cosine_lr, At, Keep, Loop, Rate, Rollback, Start, Trained, Trainee};

mod complexity;
pub use complexity::site_weights;
mod fine_tune;
pub use fine_tune::FineTuned;

/// How the learning rate falls over a training phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Multiplied by `decay` every `decay_every` epochs (the paper).
    Step,
    /// A cosine from the initial rate to 1 % of it over the phase's share
    /// of the time budget (or over `max_epochs`, whichever runs out first),
    /// as the residual SIREN's: with a budget, a step schedule tuned for
    /// convergence is still at a high rate when time runs out.
    Cosine,
}

/// Under [`Schedule::Cosine`], phases that go on from trained weights
/// (children of a split, fine-tuning after quantization) restart at this
/// share of the initial rate, the residual SIREN's fine-tuning rate.
const COSINE_RESTART: f64 = 0.1;

/// Warm-up of the phases that go on from trained weights. A fresh Adam's
/// first steps move every weight by about the full rate whatever its
/// gradient (the moments have seen one gradient): on a converged sine
/// network that is a jump out of its minimum, again after every rollback
/// (docs/benchmarks.md, the disk's children).
const RESUMED_WARMUP_STEPS: usize = 100;

/// The training of a group of networks (the paper's schedule by default).
#[derive(Clone, Debug)]
pub struct GroupTraining {
    /// Initial learning rate (Adam).
    pub lr: f64,
    pub schedule: Schedule,
    /// Under [`Schedule::Step`], the rate is multiplied by `decay` every
    /// `decay_every` epochs.
    pub decay: f64,
    pub decay_every: usize,
    /// A cluster whose loss has not improved for this many epochs is done;
    /// training ends when every cluster is.
    pub patience: usize,
    /// Share of a cluster's points sampled in one epoch.
    pub sample_fraction: f64,
    /// Points per cluster and step.
    pub batch: usize,
    pub max_epochs: usize,
    /// Optimizer steps over which the rate rises linearly to the
    /// schedule's (0: none). Phases that go on from trained weights use
    /// [`RESUMED_WARMUP_STEPS`].
    pub warmup_steps: usize,
}

impl GroupTraining {
    /// The learning rate of `epoch` under the schedule, `spent` the share
    /// of the phase's time budget used so far (0 without one).
    fn lr_at(&self, epoch: usize, spent: f64) -> f64 {
        match self.schedule {
            Schedule::Step => self.lr * self.decay.powi((epoch / self.decay_every.max(1)) as i32),
            Schedule::Cosine => cosine_lr(
                self.lr,
                spent.max(epoch as f64 / self.max_epochs.max(1) as f64),
            ),
        }
    }

    /// The share of the schedule's rate at optimizer step `step` (from 0)
    /// of a phase.
    fn warmup(&self, step: usize) -> f64 {
        match self.warmup_steps {
            0 => 1.0,
            w => ((step + 1) as f64 / w as f64).min(1.0),
        }
    }

    /// The rate at which a phase starts that goes on from weights this
    /// schedule left at `last_lr`: the step schedule goes on where it was
    /// (a fresh full rate would throw converged networks off); the cosine,
    /// which ends near zero, restarts at a tenth of its initial rate.
    fn resumed_lr(&self, last_lr: f64) -> f64 {
        match self.schedule {
            Schedule::Step => last_lr,
            Schedule::Cosine => COSINE_RESTART * self.lr,
        }
    }

    /// The training of a phase that goes on from weights this schedule
    /// left at `last_lr`: at [`Self::resumed_lr`], warming up.
    fn resumed(&self, last_lr: f64) -> GroupTraining {
        GroupTraining {
            lr: self.resumed_lr(last_lr),
            warmup_steps: RESUMED_WARMUP_STEPS,
            ..self.clone()
        }
    }
}

impl Default for GroupTraining {
    fn default() -> Self {
        GroupTraining {
            lr: 5e-5,
            schedule: Schedule::Step,
            decay: 0.92,
            decay_every: 30,
            patience: 30,
            sample_fraction: 0.3,
            batch: 4096,
            max_epochs: 10_000,
            warmup_steps: 0,
        }
    }
}

/// The meta-learned initialization (Reptile).
#[derive(Clone, Debug)]
pub struct MetaOptions {
    /// Outer steps (0: none, plain SIREN initialization).
    pub steps: usize,
    /// Adam steps of each cluster's copy per outer step.
    pub inner_steps: usize,
    pub inner_lr: f64,
    /// Fraction of the way the meta-weights move to the clusters' mean.
    pub step_size: f64,
    /// Points of each cluster per inner step.
    pub batch: usize,
}

impl Default for MetaOptions {
    fn default() -> Self {
        MetaOptions {
            steps: 100,
            inner_steps: 8,
            inner_lr: 1e-4,
            step_size: 0.2,
            batch: 1024,
        }
    }
}

/// What the k-means of the sites counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weighting {
    /// Every site the same (the paper).
    Uniform,
    /// Each site by the variation of the point arrays around it
    /// ([`site_weights`]): smaller clusters where the data changes.
    Variation,
}

/// Settings of an MC-INR encode.
#[derive(Clone, Debug)]
pub struct McInrOptions {
    /// Clusters of the initial k-means.
    pub clusters: usize,
    /// What the k-means (and the 2-means of splits) counts.
    pub weighting: Weighting,
    pub trunk_blocks: usize,
    pub branch_blocks: usize,
    /// The width; a ratio or byte target counts `clusters + max_splits`
    /// networks.
    pub size: Size,
    /// Codebook bits (0: f32 weights).
    pub bits: u8,
    /// Frequency of the first sine layer along the spatial axes, per unit
    /// of the whole domain's normalized extent (as the residual SIREN's).
    pub omega: f64,
    /// With an explicit width, a cluster whose MSE (in [-1, 1] units)
    /// stays above this splits; with a size target the worst clusters split
    /// (up to `max_splits`), using the room the target reserved.
    pub split_threshold: f64,
    /// Most splits in all.
    pub max_splits: usize,
    /// Rounds of re-clustering (0: none).
    pub split_rounds: usize,
    /// Whether the clusters that do not split in a round train on with the
    /// children. The paper trains every cluster to convergence first, so
    /// only the children train; with a time budget the others have not
    /// converged either.
    pub train_unsplit: bool,
    pub meta: MetaOptions,
    pub train: GroupTraining,
    /// Width of the blending band (domain units; 0: none).
    pub blend_width: f64,
    /// Budget of the whole encode (meta, training, re-clustering).
    pub max_time: Option<Duration>,
    pub interrupt: Option<Arc<AtomicBool>>,
    pub seed: u64,
    pub device: Device,
}

impl Default for McInrOptions {
    fn default() -> Self {
        McInrOptions {
            clusters: 20,
            weighting: Weighting::Uniform,
            trunk_blocks: 5,
            branch_blocks: 6,
            size: Size::Ratio(50.0),
            bits: 9,
            omega: super::siren::W0,
            split_threshold: 5e-4,
            max_splits: 10,
            split_rounds: 1,
            train_unsplit: false,
            meta: MetaOptions::default(),
            train: GroupTraining::default(),
            blend_width: 0.0,
            max_time: None,
            interrupt: None,
            seed: 0,
            device: Device::cuda_if_available(),
        }
    }
}

/// MC-INR's account of an encode.
#[derive(Clone, Debug)]
pub struct McInrDetails {
    pub shape: CoordShape,
    pub leaves: usize,
    pub splits: usize,
    /// Epochs of the main training and of each re-clustering round.
    pub epochs: Vec<usize>,
    /// Per leaf (in leaf order) its MSE on its own points, scaled units.
    pub leaf_mse: Vec<f64>,
    /// The fine-tuning after quantization (with codebooks).
    pub finetune: Option<FineTuned>,
    pub bits: u8,
    pub omega: f64,
    pub blend_width: f64,
    pub train_unsplit: bool,
}

impl Details for McInrDetails {
    fn text(&self, device: &str) -> String {
        let s = &self.shape;
        let worst = self.leaf_mse.iter().copied().fold(0.0, f64::max);
        format!(
            "MC-INR: {} clusters ({} splits), CoordNetB width {} ({} trunk / {} branch blocks, {} parameters each), epochs {:?} on {device}\n\
             cluster MSE (scaled units): worst {worst:.3e}\n",
            self.leaves,
            self.splits,
            s.width,
            s.trunk_blocks,
            s.branch_blocks,
            s.parameters(),
            self.epochs,
        )
    }

    fn json(&self) -> serde_json::Map<String, serde_json::Value> {
        let s = &self.shape;
        let value = serde_json::json!({
            "method": "mc-inr",
            "network": {"width": s.width, "trunk_blocks": s.trunk_blocks,
                        "branch_blocks": s.branch_blocks, "parameters_per_cluster": s.parameters(),
                        "clusters": self.leaves, "splits": self.splits, "bits": self.bits,
                        "blend_width": self.blend_width, "omega": self.omega,
                        "train_unsplit": self.train_unsplit},
            "training": {"epochs": self.epochs, "cluster_mse": self.leaf_mse},
            "finetune": self.finetune.as_ref().map(|f| serde_json::json!({
                "epochs": f.epochs,
                "loss_before": f.loss_before,
                "loss_after": f.loss_after,
                "kept": f.kept,
            })),
        });
        match value {
            serde_json::Value::Object(m) => m,
            _ => unreachable!("an object"),
        }
    }
}

/// Every site of every part, one after another: coordinates, time, the
/// scaled targets at the network's output columns and which are present.
struct Flat {
    xyz: Vec<[f64; 3]>,
    t: Vec<f64>,
    targets: Vec<f32>,
    mask: Vec<f32>,
    full: bool,
    /// Sites of the first step (what k-means clusters).
    first_step: Vec<usize>,
}

impl Flat {
    fn new(samples: &Samples) -> Flat {
        let n = samples.num_sites();
        let (targets, mask) = samples.dense_targets();
        let mut f = Flat {
            xyz: Vec::with_capacity(n),
            t: Vec::with_capacity(n),
            full: mask.iter().all(|&m| m == 1.0),
            targets,
            mask,
            first_step: Vec::new(),
        };
        let t0 = samples.times.first().copied().unwrap_or(0.0);
        for part in &samples.parts {
            let base = f.xyz.len();
            for (s, p) in part.coordinates().chunks_exact(3).enumerate() {
                if part.time == t0 {
                    f.first_step.push(base + s);
                }
                f.xyz.push([p[0], p[1], p[2]]);
                f.t.push(part.time);
            }
        }
        f
    }
}

/// A node of the tree being built: leaves hold their network's place.
#[derive(Clone, Debug)]
struct Node {
    centroid: [f64; 3],
    parent: Option<u32>,
    /// (group, index in the group) of a leaf's network.
    net: Option<(usize, usize)>,
    scale: Vec<f64>,
    shift: Vec<f64>,
}

/// The clusters being encoded.
struct Forest {
    nodes: Vec<Node>,
    groups: Vec<(VarStore, GroupedNet)>,
}

impl Forest {
    fn tree(&self) -> Result<ClusterTree> {
        let centroids: Vec<[f64; 3]> = self.nodes.iter().map(|n| n.centroid).collect();
        let parents: Vec<Option<u32>> = self.nodes.iter().map(|n| n.parent).collect();
        ClusterTree::from_parents(&centroids, &parents)
    }

    /// Node index of each leaf number of `tree`.
    fn leaf_nodes(tree: &ClusterTree) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, l) in tree.leaf.iter().enumerate() {
            if l.is_some() {
                out.push(i);
            }
        }
        out
    }
}

/// The training rows of a set of leaves: per leaf, its entries (sites
/// routed to it, and with blending those within its band), normalized with
/// the leaf's own input normalization.
struct GroupData {
    inputs: Tensor,
    targets: Tensor,
    mask: Option<Tensor>,
    /// Row range of each leaf.
    starts: Vec<i64>,
    /// Per row: the site, and its blending weight for this leaf.
    site: Vec<u32>,
    weight: Vec<f32>,
}

impl GroupData {
    fn count(&self, k: usize) -> i64 {
        self.starts[k + 1] - self.starts[k]
    }
}

/// The current tree and where every site goes in it.
struct Routing {
    tree: ClusterTree,
    /// Per site, (leaf number, weight): the routed leaf first, then with
    /// blending the others within its bands.
    parts: Vec<Vec<(u32, f32)>>,
    /// Node index of each leaf number.
    leaf_nodes: Vec<usize>,
}

impl Routing {
    fn new(forest: &Forest, flat: &Flat, blend: f64) -> Result<Routing> {
        use rayon::prelude::*;
        let tree = forest.tree()?;
        let parts = flat
            .xyz
            .par_iter()
            .map(|&p| tree.route(p, blend).parts().to_vec())
            .collect();
        let leaf_nodes = Forest::leaf_nodes(&tree);
        Ok(Routing {
            tree,
            parts,
            leaf_nodes,
        })
    }
}

/// What every phase reads: the samples, flattened, and the device.
struct Ctx<'a> {
    samples: &'a Samples,
    flat: Flat,
    device: Device,
}

/// The rows of `leaves` (node indices, in group order). `own` keeps only
/// the sites routed to each leaf (for the error that decides splits).
fn group_data(
    ctx: &Ctx,
    forest: &Forest,
    routing: &Routing,
    leaves: &[usize],
    own: bool,
) -> Result<GroupData> {
    let (flat, samples, device) = (&ctx.flat, ctx.samples, ctx.device);
    let leaf_nodes = &routing.leaf_nodes;
    let mut position = vec![usize::MAX; forest.nodes.len()];
    for (g, &n) in leaves.iter().enumerate() {
        position[n] = g;
    }
    let mut lists: Vec<Vec<(u32, f32)>> = vec![Vec::new(); leaves.len()];
    for (s, p) in routing.parts.iter().enumerate() {
        for (i, &(leaf, w)) in p.iter().enumerate() {
            if own && i > 0 {
                break;
            }
            let g = position[leaf_nodes[leaf as usize]];
            if g != usize::MAX {
                lists[g].push((s as u32, if own { 1.0 } else { w }));
            }
        }
    }
    let (k, c) = (samples.inputs(), samples.outputs());
    let rows: usize = lists.iter().map(Vec::len).sum();
    let mut inputs = Vec::with_capacity(rows * k);
    let mut targets = Vec::with_capacity(rows * c);
    let mut mask = Vec::with_capacity(rows * c);
    let (mut site, mut weight) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    let mut starts = vec![0i64];
    for (g, list) in lists.iter().enumerate() {
        let node = &forest.nodes[leaves[g]];
        for &(s, w) in list {
            let s = s as usize;
            let p = flat.xyz[s];
            inputs.extend((0..3).map(|a| (node.scale[a] * p[a] + node.shift[a]) as f32));
            if k == 4 {
                inputs.push((node.scale[3] * flat.t[s] + node.shift[3]) as f32);
            }
            targets.extend_from_slice(&flat.targets[s * c..(s + 1) * c]);
            mask.extend_from_slice(&flat.mask[s * c..(s + 1) * c]);
            site.push(s as u32);
            weight.push(w);
        }
        starts.push(starts[g] + list.len() as i64);
    }
    let tensor = |v: &[f32], cols: usize| crate::matrix(v, rows, cols, device);
    Ok(GroupData {
        inputs: tensor(&inputs, k)?,
        targets: tensor(&targets, c)?,
        mask: if flat.full {
            None
        } else {
            Some(tensor(&mask, c)?)
        },
        starts,
        site,
        weight,
    })
}

/// Row indices `[K, b]` drawn uniformly within each leaf's rows.
fn sample_rows(data: &GroupData, k: usize, b: usize, device: Device) -> Tensor {
    let starts: Vec<i64> = data.starts[..k].to_vec();
    let counts: Vec<f64> = (0..k).map(|g| data.count(g).max(1) as f64).collect();
    let starts = Tensor::from_slice(&starts)
        .to_device(device)
        .view([k as i64, 1]);
    let counts = Tensor::from_slice(&counts)
        .to_device(device)
        .view([k as i64, 1]);
    let r = Tensor::rand([k as i64, b as i64], (Kind::Double, device));
    let offsets = (r * &counts).floor().to_kind(Kind::Int64);
    let max = (&counts - 1.0).to_kind(Kind::Int64);
    offsets.minimum(&max) + starts
}

/// Per-leaf mean squared error of a minibatch, `[K]`.
fn batch_loss(net: &GroupedNet, data: &GroupData, idx: &Tensor) -> Tensor {
    let (k, b) = (idx.size()[0], idx.size()[1]);
    let flat = idx.view(-1);
    let x = data.inputs.index_select(0, &flat).view([k, b, -1]);
    let y = data.targets.index_select(0, &flat).view([k, b, -1]);
    let sq = (net.forward(&x) - y).square();
    match &data.mask {
        None => sq.mean_dim(&[1i64, 2][..], false, Kind::Float),
        Some(m) => {
            let m = m.index_select(0, &flat).view([k, b, -1]);
            (sq * &m).sum_dim_intlist(&[1i64, 2][..], false, Kind::Float)
                / m.sum_dim_intlist(&[1i64, 2][..], false, Kind::Float)
                    .clamp_min(1.0)
        }
    }
}

/// Shares of a time budget: meta-learning takes at most this of it, and
/// the main training this of what is left when clusters may still split
/// (the split rounds share the rest).
const META_SHARE: f64 = 0.15;
const TRAIN_SHARE_BEFORE_SPLITS: f64 = 0.7;

/// Reptile: the meta-weights move towards the mean of their copies, each
/// trained a few steps on a subsample of one cluster.
fn meta_learn(
    vs: &VarStore,
    theta: &GroupedNet,
    data: &GroupData,
    k: usize,
    opts: &MetaOptions,
    clock: &Clock,
    progress: &mut dyn FnMut(&Progress),
) -> Result<()> {
    let device = vs.device();
    let began = Instant::now();
    for step in 0..opts.steps {
        if clock.out() {
            break;
        }
        let inner_vs = VarStore::new(device);
        let inner = theta.select(&inner_vs, &vec![0; k]);
        let mut opt = nn::Adam::default()
            .build(&inner_vs, opts.inner_lr)
            .map_err(tch_error)?;
        let mut loss = 0.0;
        for _ in 0..opts.inner_steps {
            let idx = sample_rows(data, k, opts.batch, device);
            let l = batch_loss(&inner, data, &idx);
            let total = l.sum(Kind::Float);
            opt.backward_step(&total);
            loss = f64::try_from(l.mean(Kind::Float)).map_err(tch_error)?;
        }
        {
            let _guard = tch::no_grad_guard();
            for (mut t, i) in vs
                .trainable_variables()
                .into_iter()
                .zip(inner_vs.trainable_variables())
            {
                let target = i.mean_dim(&[0i64][..], true, Kind::Float);
                let moved = &t + (target - &t) * opts.step_size;
                t.copy_(&moved);
            }
        }
        if step % 10 == 0 || step + 1 == opts.steps {
            progress(&Progress::at(
                Phase::MetaLearn,
                step + 1,
                opts.steps,
                loss,
                opts.inner_lr,
                began.elapsed(),
            ));
        }
    }
    Ok(())
}

/// Rows per leaf and step, and steps per epoch: an epoch sees
/// `sample_fraction` of the largest leaf's rows, in minibatches of at most
/// `batch` (smaller for small clusters, which would otherwise draw the same
/// rows many times in one step).
fn epoch_plan(data: &GroupData, k: usize, opts: &GroupTraining) -> (usize, usize) {
    let largest = (0..k).map(|g| data.count(g)).max().unwrap_or(0) as f64;
    let per_epoch = (opts.sample_fraction * largest).ceil().max(1.0);
    let batch = (opts.batch as f64).min(per_epoch) as usize;
    (batch, ((per_epoch / batch as f64).ceil() as usize).max(1))
}

impl Rate for GroupTraining {
    fn at(&self, at: At) -> f64 {
        self.lr_at(at.check, at.spent)
    }

    fn warmup(&self, step: usize) -> f64 {
        GroupTraining::warmup(self, step)
    }
}

/// A group of cluster networks and their rows, as the loop trains them:
/// each network on a minibatch of its own rows every step.
struct GroupTrainee<'a> {
    net: &'a GroupedNet,
    data: &'a GroupData,
    batch: usize,
}

impl Trainee for GroupTrainee<'_> {
    fn networks(&self) -> usize {
        self.net.k
    }

    fn minibatch_loss(&mut self) -> Result<Tensor> {
        let idx = sample_rows(self.data, self.net.k, self.batch, self.data.inputs.device());
        Ok(batch_loss(self.net, self.data, &idx))
    }

    fn full_losses(&self) -> Result<Vec<f64>> {
        leaf_mse(self.net, self.data)
    }
}

/// The loop's settings for `max_epochs` of `steps_per_epoch` steps each,
/// going on from the weights the phase starts with.
fn epochs_loop(phase: Phase, opts: &GroupTraining, steps_per_epoch: usize) -> Loop {
    Loop {
        phase,
        lr: opts.lr,
        steps: opts.max_epochs.saturating_mul(steps_per_epoch),
        check_every: steps_per_epoch,
        patience: opts.patience,
        plateaus: 1,
        keep: Keep::Improved,
        rollback: Rollback::Network,
        start: Start::Measured,
    }
}

/// Trains the `k` networks of `net` on their rows of `data` with the
/// paper's schedule, an epoch a check: each network keeps its best weights,
/// a network that jumps goes back to them alone, training ends when every
/// network has stopped improving, and a network that ends no better than
/// it started keeps its start.
fn train_group(
    vs: &VarStore,
    net: &GroupedNet,
    data: &GroupData,
    opts: &GroupTraining,
    clock: &Clock,
    phase: Phase,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Trained> {
    let (batch, steps_per_epoch) = epoch_plan(data, net.k, opts);
    let mut trainee = GroupTrainee { net, data, batch };
    let settings = epochs_loop(phase, opts, steps_per_epoch);
    train::run(vs, &mut trainee, opts, &settings, clock, progress)
}

/// The predictions `[rows, C]` of every row of `data` (each by its leaf's
/// network), on the CPU.
fn predict_rows(net: &GroupedNet, data: &GroupData) -> Result<Vec<f32>> {
    let _guard = tch::no_grad_guard();
    let k = net.k;
    let c = net.shape.outputs();
    let device = data.inputs.device();
    let rows = data.site.len();
    let mut out = vec![0f32; rows * c];
    let largest = (0..k).map(|g| data.count(g)).max().unwrap_or(0);
    let chunk = 4096i64;
    let mut offset = 0;
    while offset < largest {
        // Row offset..offset+chunk of every leaf (clamped to its last row).
        let mut idx = Vec::with_capacity(k * chunk as usize);
        for g in 0..k {
            let n = data.count(g);
            for i in 0..chunk {
                idx.push(data.starts[g] + (offset + i).min((n - 1).max(0)));
            }
        }
        let t = Tensor::from_slice(&idx).to_device(device);
        let x = data.inputs.index_select(0, &t).view([k as i64, chunk, -1]);
        let y = net.forward(&x).to_device(Device::Cpu).contiguous().view(-1);
        let y = Vec::<f32>::try_from(&y).map_err(tch_error)?;
        for g in 0..k {
            let n = data.count(g);
            for i in 0..chunk.min(n - offset).max(0) {
                let row = (data.starts[g] + offset + i) as usize;
                let src = (g * chunk as usize + i as usize) * c;
                out[row * c..(row + 1) * c].copy_from_slice(&y[src..src + c]);
            }
        }
        offset += chunk;
    }
    Ok(out)
}

/// Per leaf of `data`, the MSE of its network on its rows (scaled units).
fn leaf_mse(net: &GroupedNet, data: &GroupData) -> Result<Vec<f64>> {
    let c = net.shape.outputs();
    let pred = predict_rows(net, data)?;
    let targets =
        Vec::<f32>::try_from(&data.targets.to_device(Device::Cpu).view(-1)).map_err(tch_error)?;
    let mask = match &data.mask {
        Some(m) => {
            Some(Vec::<f32>::try_from(&m.to_device(Device::Cpu).view(-1)).map_err(tch_error)?)
        }
        None => None,
    };
    Ok((0..net.k)
        .map(|g| {
            let (mut sum, mut count) = (0f64, 0f64);
            for row in data.starts[g] as usize..data.starts[g + 1] as usize {
                for j in 0..c {
                    let m = mask.as_ref().map_or(1.0, |m| m[row * c + j]) as f64;
                    let e = (pred[row * c + j] - targets[row * c + j]) as f64;
                    sum += m * e * e;
                    count += m;
                }
            }
            sum / count.max(1.0)
        })
        .collect())
}

/// The input normalization of a cluster of the given sites: centered on
/// their box, at the whole domain's scale (and frequency `omega`).
fn affine_of(
    samples: &Samples,
    flat: &Flat,
    omega: f64,
    sites: impl Iterator<Item = usize>,
) -> (Vec<f64>, Vec<f64>) {
    let mut b = [[f64::INFINITY, f64::NEG_INFINITY]; 3];
    for s in sites {
        for (r, &x) in b.iter_mut().zip(&flat.xyz[s]) {
            r[0] = r[0].min(x);
            r[1] = r[1].max(x);
        }
    }
    // An empty cluster (none has) would sit at the domain's center.
    let own: Vec<[f64; 2]> = b
        .iter()
        .zip(&samples.bounds)
        .map(|(r, d)| if r[0] <= r[1] { *r } else { *d })
        .collect();
    samples.input_affine_on(&own, omega)
}

/// Trains an MC-INR model on `samples` and writes the file's bytes.
pub fn encode(
    samples: &Samples,
    opts: &McInrOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<EncodeReport<McInrDetails>> {
    let common = Common {
        size: opts.size,
        bits: opts.bits,
        omega: opts.omega,
        seed: opts.seed,
        device: opts.device,
        max_time: opts.max_time,
        interrupt: opts.interrupt.clone(),
    };
    let family = McInrFamily {
        opts,
        ctx: Ctx {
            samples,
            flat: Flat::new(samples),
            device: opts.device,
        },
        site_weights: None,
        clusters: Vec::new(),
        shape: None,
        trained: None,
    };
    pipeline::encode(samples, &common, family, progress)
}

/// MC-INR in the pipeline.
struct McInrFamily<'a> {
    opts: &'a McInrOptions,
    ctx: Ctx<'a>,
    /// What the k-means weighs each site by (none: all alike).
    site_weights: Option<Vec<f64>>,
    /// The k-means centroids: the roots of the cluster tree.
    clusters: Vec<[f64; 3]>,
    /// The networks' shape, its width set by the size search.
    shape: Option<CoordShape>,
    trained: Option<McTrained>,
}

/// The trained clusters and their model as the file will store it.
struct McTrained {
    forest: Forest,
    model: McInr,
    /// The leaves' nodes, in leaf order.
    leaves: Vec<usize>,
    epochs: Vec<usize>,
    /// The rate the last training phase ended at.
    lr: f64,
    splits: usize,
    leaf_mse: Vec<f64>,
    finetune: Option<FineTuned>,
}

impl McInrFamily<'_> {
    /// The weights of some sites, for the k-means that clusters them.
    fn weights_of(&self, sites: &[usize]) -> Option<Vec<f64>> {
        let w = self.site_weights.as_ref()?;
        Some(sites.iter().map(|&s| w[s]).collect())
    }

    /// The networks' shape at `width`.
    fn shape_at(&self, width: usize) -> CoordShape {
        let samples = self.ctx.samples;
        CoordShape {
            inputs: samples.inputs(),
            width,
            trunk_blocks: self.opts.trunk_blocks,
            branch_blocks: self.opts.branch_blocks,
            components: samples.variables.iter().map(|v| v.components).collect(),
        }
    }

    /// The leaves' networks as the decoder's CoordNetB, in leaf order.
    fn export_leaves(forest: &Forest, leaves: &[usize]) -> Result<Vec<inr_core::model::CoordNetB>> {
        leaves
            .iter()
            .map(|&n| {
                let node = &forest.nodes[n];
                let (g, i) = node.net.expect("leaves have networks");
                forest.groups[g]
                    .1
                    .export(i, node.scale.clone(), node.shift.clone())
            })
            .collect()
    }
}

impl McInrFamily<'_> {
    /// The k-means clusters as the roots of the tree, each centered on its
    /// own box, their networks from a meta-learned initialization, trained.
    fn train_roots(
        &self,
        samples: &Samples,
        shape: &CoordShape,
        work: &Clock,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<(Forest, Trained)> {
        let opts = self.opts;
        let ctx = &self.ctx;
        let flat = &ctx.flat;
        let device = ctx.device;
        let roots = self.clusters.len();
        let clusters = &self.clusters;
        let mut forest = Forest {
            nodes: clusters
                .iter()
                .map(|&centroid| Node {
                    centroid,
                    parent: None,
                    net: None,
                    scale: Vec::new(),
                    shift: Vec::new(),
                })
                .collect(),
            groups: Vec::new(),
        };
        let routing = Routing::new(&forest, flat, opts.blend_width)?;
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); forest.nodes.len()];
        for (s, p) in routing.parts.iter().enumerate() {
            for &(leaf, _) in p {
                members[routing.leaf_nodes[leaf as usize]].push(s);
            }
        }
        for (n, m) in forest.nodes.iter_mut().zip(&members) {
            let (scale, shift) = affine_of(samples, flat, opts.omega, m.iter().copied());
            n.scale = scale;
            n.shift = shift;
        }
        let root_ids: Vec<usize> = (0..roots).collect();
        let data = group_data(ctx, &forest, &routing, &root_ids, false)?;

        // Meta-learned initialization, then every root's network from it.
        let meta_vs = VarStore::new(device);
        let theta = GroupedNet::new(&meta_vs, 1, shape);
        let meta_clock = work.share(META_SHARE);
        meta_learn(
            &meta_vs,
            &theta,
            &data,
            roots,
            &opts.meta,
            &meta_clock,
            progress,
        )?;
        let vs = VarStore::new(device);
        let net = theta.select(&vs, &vec![0; roots]);
        let may_split = opts.split_rounds > 0 && opts.max_splits > 0;
        let train_clock = work.share(if may_split {
            TRAIN_SHARE_BEFORE_SPLITS
        } else {
            1.0
        });
        let trained = train_group(
            &vs,
            &net,
            &data,
            &opts.train,
            &train_clock,
            Phase::Train,
            progress,
        )?;
        for (i, n) in forest.nodes.iter_mut().enumerate() {
            n.net = Some((0, i));
        }
        forest.groups.push((vs, net));
        Ok((forest, trained))
    }

    /// Round `round` of re-clustering: the worst leaves (or those above the
    /// threshold) split in two by 2-means, the children trained on from
    /// their parent's weights as one new group. `None` when none split.
    fn split_round(
        &self,
        forest: &mut Forest,
        round: usize,
        splits: &mut usize,
        lr: f64,
        work: &Clock,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Option<Trained>> {
        let opts = self.opts;
        let ctx = &self.ctx;
        let flat = &ctx.flat;
        let device = ctx.device;
        let routing = Routing::new(forest, flat, opts.blend_width)?;
        let leaves = routing.leaf_nodes.clone();
        let mse = mse_of_leaves(ctx, forest, &routing, &leaves)?;
        // With a size target the room reserved for splits is used: the
        // worst clusters split even below the threshold.
        let fill = !matches!(opts.size, Size::Width(_));
        let mut over: Vec<(usize, f64)> = leaves
            .iter()
            .zip(&mse)
            .filter(|(_, &e)| fill || e > opts.split_threshold)
            .map(|(&n, &e)| (n, e))
            .collect();
        over.sort_by(|a, b| b.1.total_cmp(&a.1));
        over.truncate(opts.max_splits - *splits);
        log::debug!(
            "split round {round}: {} of {} clusters split (MSE {:?})",
            over.len(),
            leaves.len(),
            over.iter().map(|&(_, e)| e as f32).collect::<Vec<_>>()
        );
        let own = own_sites(&routing, forest.nodes.len());
        let mut children = Vec::new();
        for (node, _) in over {
            let pts: Vec<f64> = own[node].iter().flat_map(|&s| flat.xyz[s]).collect();
            let w = self.weights_of(&own[node]);
            let two = weighted_kmeans(&pts, w.as_deref(), 2, opts.seed + node as u64);
            if two.centroids.len() < 2 {
                continue;
            }
            let parent = forest.nodes[node].clone();
            forest.nodes[node].net = None;
            for c in two.centroids {
                children.push((
                    forest.nodes.len(),
                    parent.net.expect("a leaf has a network"),
                ));
                forest.nodes.push(Node {
                    centroid: c,
                    parent: Some(node as u32),
                    ..parent.clone()
                });
            }
            *splits += 1;
        }
        if children.is_empty() {
            return Ok(None);
        }
        if opts.train_unsplit {
            let split: Vec<usize> = children.iter().map(|c| c.0).collect();
            for (n, node) in forest.nodes.iter().enumerate() {
                match node.net {
                    Some(place) if !split.contains(&n) => children.push((n, place)),
                    _ => {}
                }
            }
        }
        // The children start from their parent's weights (and with
        // `train_unsplit` the other leaves go on from theirs) and train on
        // their own points (and bands).
        let routing = Routing::new(forest, flat, opts.blend_width)?;
        let ids: Vec<usize> = children.iter().map(|c| c.0).collect();
        let data = group_data(ctx, forest, &routing, &ids, false)?;
        let vs = VarStore::new(device);
        let net = select_from(
            forest,
            &vs,
            &children.iter().map(|c| c.1).collect::<Vec<_>>(),
        );
        let phase = Phase::Recluster(round + 1);
        let round_clock = work.share(1.0 / (opts.split_rounds - round) as f64);
        // The children go on from their parent's weights at the rate its
        // schedule had reached (the cosine's restart).
        let train = opts.train.resumed(lr);
        let trained = train_group(&vs, &net, &data, &train, &round_clock, phase, progress)?;
        let g = forest.groups.len();
        for (i, &(node, _)) in children.iter().enumerate() {
            forest.nodes[node].net = Some((g, i));
        }
        forest.groups.push((vs, net));
        Ok(Some(trained))
    }
}

impl Family for McInrFamily<'_> {
    type Details = McInrDetails;

    fn prepare(&mut self, samples: &Samples, _: &Common) -> Result<()> {
        let opts = self.opts;
        if opts.clusters == 0 {
            return Err(Error::InvalidArgument(
                "--clusters must be 1 or more".into(),
            ));
        }
        if !(opts.blend_width.is_finite() && opts.blend_width >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "blend width {} (must be 0 or more)",
                opts.blend_width
            )));
        }
        super::check_lr("--lr", opts.train.lr)?;
        self.site_weights = match opts.weighting {
            Weighting::Uniform => None,
            Weighting::Variation => complexity::site_weights(samples),
        };
        let flat = &self.ctx.flat;
        let positions: Vec<f64> = flat.first_step.iter().flat_map(|&s| flat.xyz[s]).collect();
        self.clusters = weighted_kmeans(
            &positions,
            self.weights_of(&flat.first_step).as_deref(),
            opts.clusters,
            opts.seed,
        )
        .centroids;
        Ok(())
    }

    fn size_model<'a>(&'a self, samples: &'a Samples, common: &Common) -> Box<dyn SizeModel + 'a> {
        let opts = self.opts;
        // Room for the leaves the splits may add.
        let most_leaves =
            self.clusters.len() + opts.max_splits * usize::from(opts.split_rounds > 0);
        Box::new(size::McInrSize {
            samples,
            shape: self.shape_at(1),
            leaves: most_leaves,
            blend_width: opts.blend_width,
            encoding: common.encoding(),
        })
    }

    fn fine_tunes(&self, _: &Common) -> bool {
        true
    }

    fn train(
        &mut self,
        samples: &Samples,
        _: &Common,
        width: usize,
        work: &Clock,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Vec<VariableQuality>> {
        let opts = self.opts;
        let ctx = &self.ctx;
        let flat = &ctx.flat;
        let shape = self.shape_at(width);
        let (mut forest, first) = self.train_roots(samples, &shape, work, progress)?;
        let mut epochs = vec![first.checks];
        let mut lr = first.last_lr;
        // Residual-based re-clustering.
        let mut splits = 0;
        for round in 0..opts.split_rounds {
            if work.out() || splits >= opts.max_splits {
                break;
            }
            match self.split_round(&mut forest, round, &mut splits, lr, work, progress)? {
                Some(trained) => {
                    epochs.push(trained.checks);
                    lr = trained.last_lr;
                }
                None => break,
            }
        }

        let routing = Routing::new(&forest, flat, opts.blend_width)?;
        let leaves = routing.leaf_nodes.clone();
        let network_quality = blended_quality(ctx, &forest, &routing)?;
        let leaf_mse = mse_of_leaves(ctx, &forest, &routing, &leaves)?;
        let model = McInr {
            inputs: samples.inputs(),
            blend_width: opts.blend_width,
            leaves: Self::export_leaves(&forest, &leaves)?,
            tree: routing.tree.clone(),
        };
        self.shape = Some(shape);
        self.trained = Some(McTrained {
            forest,
            model,
            leaves,
            epochs,
            lr,
            splits,
            leaf_mse,
            finetune: None,
        });
        Ok(network_quality)
    }

    fn quantize(
        &mut self,
        _: &Samples,
        common: &Common,
        clock: &Clock,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Vec<VariableQuality>> {
        let opts = self.opts;
        let ctx = &self.ctx;
        let t = self.trained.as_mut().expect("the pipeline trains first");
        let routing = Routing::new(&t.forest, &ctx.flat, opts.blend_width)?;
        // Quantized with the codebooks the file shares across clusters; the
        // file then stores these values exactly.
        let tables = shared_codebook::snap(&mut t.model.leaves, common.bits);
        let resumed = opts.train.resumed(t.lr);
        let train = GroupTraining {
            lr: (opts.train.lr / 10.0).min(resumed.lr),
            ..resumed
        };
        t.finetune = Some(fine_tune::fine_tune(
            ctx,
            &mut t.forest,
            &routing,
            &t.model,
            &tables,
            &train,
            clock,
            progress,
        )?);
        t.model.leaves = Self::export_leaves(&t.forest, &t.leaves)?;
        // The encoder's own measure of the quantized networks, blended as
        // the decoder will (libtorch, the encoder's routing): the decoder
        // must agree.
        let routing = Routing::new(&t.forest, &ctx.flat, opts.blend_width)?;
        blended_quality(ctx, &t.forest, &routing)
    }

    fn weights(&self, _: &Samples, _: &Common) -> Result<(Box<dyn WriteWeights>, String)> {
        let opts = self.opts;
        let t = self.trained.as_ref().expect("the pipeline trains first");
        let shape = self.shape.as_ref().expect("the pipeline trains first");
        let description = format!(
            "mc-inr {} clusters ({} by k-means, {} splits) width {} trunk {} branch {} omega {}, epochs {:?}, batch {}, lr {}, seed {}, {}{}, meta {} steps",
            t.model.leaves.len(),
            self.clusters.len(),
            t.splits,
            shape.width,
            shape.trunk_blocks,
            shape.branch_blocks,
            opts.omega,
            t.epochs,
            opts.train.batch,
            opts.train.lr,
            opts.seed,
            crate::weights_name(opts.bits),
            match &t.finetune {
                Some(f) if f.kept => format!(" fine-tuned {} epochs", f.epochs),
                _ => String::new(),
            },
            opts.meta.steps
        );
        Ok((Box::new(t.model.clone()), description))
    }

    fn details(self, common: &Common) -> McInrDetails {
        let t = self.trained.expect("the pipeline trains first");
        McInrDetails {
            shape: self.shape.expect("the pipeline trains first"),
            leaves: t.model.leaves.len(),
            splits: t.splits,
            epochs: t.epochs,
            leaf_mse: t.leaf_mse,
            finetune: t.finetune,
            bits: common.bits,
            omega: common.omega,
            blend_width: self.opts.blend_width,
            train_unsplit: self.opts.train_unsplit,
        }
    }
}

/// The networks of `places` ((group, index) pairs) as one new group.
fn select_from(forest: &Forest, vs: &VarStore, places: &[(usize, usize)]) -> GroupedNet {
    // All places come from one group when one round splits (the roots), but
    // later rounds may split children of several groups: gather per group.
    let first = places[0].0;
    if places.iter().all(|p| p.0 == first) {
        let rows: Vec<usize> = places.iter().map(|p| p.1).collect();
        return forest.groups[first].1.select(vs, &rows);
    }
    let tmp = VarStore::new(vs.device());
    let parts: Vec<GroupedNet> = places
        .iter()
        .map(|&(g, i)| forest.groups[g].1.select(&tmp, &[i]))
        .collect();
    GroupedNet::concat(vs, &parts)
}

/// The sites routed to each node.
fn own_sites(routing: &Routing, nodes: usize) -> Vec<Vec<usize>> {
    let mut own = vec![Vec::new(); nodes];
    for (s, p) in routing.parts.iter().enumerate() {
        own[routing.leaf_nodes[p[0].0 as usize]].push(s);
    }
    own
}

/// The MSE of each of `leaves` on its own sites.
fn mse_of_leaves(
    ctx: &Ctx,
    forest: &Forest,
    routing: &Routing,
    leaves: &[usize],
) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(leaves.len());
    for &n in leaves {
        let (g, i) = forest.nodes[n].net.expect("leaves have networks");
        let data = group_data(ctx, forest, routing, &[n], true)?;
        let tmp = VarStore::new(ctx.device);
        let net = forest.groups[g].1.select(&tmp, &[i]);
        out.push(leaf_mse(&net, &data)?[0]);
    }
    Ok(out)
}

/// The blended prediction at every site (the decoder's rule), measured.
fn blended_quality(ctx: &Ctx, forest: &Forest, routing: &Routing) -> Result<Vec<VariableQuality>> {
    let samples = ctx.samples;
    let c = samples.outputs();
    let mut pred = vec![0f64; ctx.flat.xyz.len() * c];
    for &n in &routing.leaf_nodes {
        let (g, i) = forest.nodes[n].net.expect("leaves have networks");
        let data = group_data(ctx, forest, routing, &[n], false)?;
        let tmp = VarStore::new(ctx.device);
        let net = forest.groups[g].1.select(&tmp, &[i]);
        let y = predict_rows(&net, &data)?;
        for (row, (&s, &w)) in data.site.iter().zip(&data.weight).enumerate() {
            for j in 0..c {
                pred[s as usize * c + j] += w as f64 * y[row * c + j] as f64;
            }
        }
    }
    let mut base = 0;
    quality::measure(samples, |p| {
        let part = &samples.parts[p];
        let mut out = Vec::with_capacity(part.targets.len());
        for s in base..base + part.len() {
            for &v in &part.variables {
                let var = &samples.variables[v];
                for k in 0..var.components {
                    out.push(samples.unscale(v, k, pred[s * c + var.column + k]));
                }
            }
        }
        base += part.len();
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(schedule: Schedule) -> GroupTraining {
        GroupTraining {
            lr: 1e-3,
            schedule,
            max_epochs: 100,
            ..GroupTraining::default()
        }
    }

    #[test]
    fn the_cosine_falls_from_the_rate_to_its_floor_over_the_budget() {
        let c = schedule(Schedule::Cosine);
        assert!((c.lr_at(0, 0.0) - 1e-3).abs() < 1e-12);
        assert!((c.lr_at(0, 0.5) - (1e-5 + 0.5 * (1e-3 - 1e-5))).abs() < 1e-12);
        assert!((c.lr_at(0, 1.0) - 1e-5).abs() < 1e-12);
        // Past the budget (the last epoch may overrun it) it stays at the floor.
        assert!((c.lr_at(0, 3.0) - 1e-5).abs() < 1e-12);
        // Epochs count when they run out before the time does.
        assert!((c.lr_at(50, 0.1) - c.lr_at(0, 0.5)).abs() < 1e-12);
        let rates: Vec<f64> = (0..=10).map(|i| c.lr_at(0, i as f64 / 10.0)).collect();
        assert!(rates.windows(2).all(|w| w[1] < w[0]), "{rates:?}");
        assert!((c.resumed_lr(1e-5) - 1e-4).abs() < 1e-12);
    }

    /// Networks of one residual block from 3-D points to one value.
    fn one_block_net(width: usize) -> CoordShape {
        CoordShape {
            inputs: 3,
            width,
            trunk_blocks: 1,
            branch_blocks: 0,
            components: vec![1],
        }
    }

    #[test]
    fn the_warm_up_rises_linearly_to_the_schedule() {
        let w = GroupTraining {
            warmup_steps: 100,
            ..schedule(Schedule::Step)
        };
        assert!((w.warmup(0) - 0.01).abs() < 1e-12);
        assert!((w.warmup(49) - 0.5).abs() < 1e-12);
        assert_eq!(w.warmup(99), 1.0);
        assert_eq!(w.warmup(5000), 1.0);
        assert_eq!(schedule(Schedule::Step).warmup(0), 1.0);
    }

    /// `k` leaves of `n` rows each: points of [-1, 1]^3 and a smooth field.
    fn field_rows(k: usize, n: usize) -> GroupData {
        let rows = (k * n) as i64;
        let inputs = Tensor::rand([rows, 3], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let targets =
            ((inputs.select(1, 0) * 2.0).sin() * inputs.select(1, 1).cos() * 0.5).view([rows, 1]);
        GroupData {
            inputs,
            targets,
            mask: None,
            starts: (0..=k).map(|g| (g * n) as i64).collect(),
            site: (0..rows as u32).collect(),
            weight: vec![1.0; rows as usize],
        }
    }

    #[test]
    fn a_phase_never_leaves_a_network_worse_than_its_start() {
        tch::manual_seed(3);
        let shape = one_block_net(16);
        let vs = VarStore::new(Device::Cpu);
        let net = GroupedNet::new(&vs, 4, &shape);
        let data = field_rows(4, 64);
        let clock = Clock::new(None, None);
        let fit = GroupTraining {
            lr: 1e-3,
            max_epochs: 300,
            sample_fraction: 1.0,
            patience: 1_000_000,
            ..GroupTraining::default()
        };
        train_group(&vs, &net, &data, &fit, &clock, Phase::Train, &mut |_| {}).unwrap();
        let trained = leaf_mse(&net, &data).unwrap();
        // A fresh Adam far too fast for trained weights, one step an epoch
        // (64 rows): every step leaves the minimum.
        let kick = GroupTraining {
            lr: 0.05,
            max_epochs: 20,
            ..fit
        };
        train_group(&vs, &net, &data, &kick, &clock, Phase::Train, &mut |_| {}).unwrap();
        let after = leaf_mse(&net, &data).unwrap();
        for (g, (a, t)) in after.iter().zip(&trained).enumerate() {
            assert!(a <= t, "network {g}: {a:e} after, {t:e} trained");
        }
        assert!(trained.iter().all(|&t| t < 1e-2), "{trained:?}");
    }

    #[test]
    fn the_step_schedule_ignores_the_clock() {
        let s = GroupTraining {
            decay: 0.5,
            decay_every: 10,
            ..schedule(Schedule::Step)
        };
        assert_eq!(s.lr_at(9, 0.9), 1e-3);
        assert_eq!(s.lr_at(10, 0.0), 5e-4);
        assert_eq!(s.lr_at(25, 1.0), 2.5e-4);
        assert_eq!(s.resumed_lr(2.5e-4), 2.5e-4);
    }
}

//! Deep compression's last step for MC-INR: after quantization, every
//! value the file stores is trained again — the entries of the shared
//! codebooks (which tie all clusters together), the weights that draw
//! them (each as its nearest entry, so that a weight may change entry:
//! `crate::straight_through`) and the parts kept f32 (first
//! layers, biases).

use tch::nn::VarStore;
use tch::{Kind, Tensor};

use inr_core::error::Result;
use inr_core::model::shared_codebook::{Role, RoleTables};
use inr_core::model::McInr;

use super::{
    batch_loss, epoch_plan, epochs_loop, group_data, leaf_mse, sample_rows, select_from, Clock,
    Ctx, Forest, GroupData, GroupTraining, Phase, Progress, Routing,
};
use crate::coordnet::GroupedNet;
use crate::train::{self, Keep, Loop, Rollback, Start, Trainee};

/// What the fine-tuning did.
#[derive(Clone, Debug, PartialEq)]
pub struct FineTuned {
    pub epochs: usize,
    /// Row-weighted MSE over all leaves (scaled units) of the quantized
    /// model before and after; the result is kept only when it is lower.
    pub loss_before: f64,
    pub loss_after: f64,
    pub kept: bool,
}

/// Fine-tunes the leaves of `routing`, quantized as `quantized` to the
/// shared `tables`, at `lr` with the schedule of `train`, in the time of
/// `clock`; the leaves become one new group of `forest`.
#[allow(clippy::too_many_arguments)]
pub(super) fn fine_tune(
    ctx: &Ctx,
    forest: &mut Forest,
    routing: &Routing,
    quantized: &McInr,
    tables: &RoleTables,
    train: &GroupTraining,
    clock: &Clock,
    progress: &mut dyn FnMut(&Progress),
) -> Result<FineTuned> {
    let leaves = routing.leaf_nodes.clone();
    let places: Vec<(usize, usize)> = leaves
        .iter()
        .map(|&n| forest.nodes[n].net.expect("leaves have networks"))
        .collect();
    let vs = VarStore::new(ctx.device);
    let mut net = select_from(forest, &vs, &places);
    for (i, q) in quantized.leaves.iter().enumerate() {
        net.import(i, q)?;
    }
    net.tie_to_tables(
        &vs,
        tables[Role::Hidden as usize].as_deref(),
        tables[Role::Head as usize].as_deref(),
    );
    let data = group_data(ctx, forest, routing, &leaves, false)?;
    let done = train_tied(&vs, &net, &data, train, clock, progress)?;
    let g = forest.groups.len();
    for (i, &n) in leaves.iter().enumerate() {
        forest.nodes[n].net = Some((g, i));
    }
    forest.groups.push((vs, net));
    Ok(done)
}

/// Share of each leaf's rows in all of `data`'s: a leaf's weight in the
/// file's error.
fn row_shares(data: &GroupData, k: usize) -> Vec<f64> {
    let total: i64 = (0..k).map(|g| data.count(g)).sum();
    (0..k)
        .map(|g| data.count(g) as f64 / total.max(1) as f64)
        .collect()
}

fn weighted(mse: &[f64], shares: &[f64]) -> f64 {
    mse.iter().zip(shares).map(|(m, s)| m * s).sum()
}

/// The leaves tied to shared tables, as the loop trains them: one
/// network to the loop (the tables couple the leaves, so no leaf keeps
/// weights of its own), its loss the leaves' weighted by their rows.
struct TiedTrainee<'a> {
    net: &'a GroupedNet,
    data: &'a GroupData,
    batch: usize,
    shares: Vec<f64>,
    share_t: Tensor,
}

impl Trainee for TiedTrainee<'_> {
    fn networks(&self) -> usize {
        1
    }

    fn minibatch_loss(&mut self) -> Result<Tensor> {
        let idx = sample_rows(self.data, self.net.k, self.batch, self.share_t.device());
        Ok((batch_loss(self.net, self.data, &idx) * &self.share_t).sum(Kind::Float))
    }

    fn full_losses(&self) -> Result<Vec<f64>> {
        Ok(vec![weighted(
            &leaf_mse(self.net, self.data)?,
            &self.shares,
        )])
    }
}

/// Trains all of `net`'s variables together on the row-weighted loss,
/// keeping the best epoch's, and the starting ones unless the result is
/// better over all rows.
fn train_tied(
    vs: &VarStore,
    net: &GroupedNet,
    data: &GroupData,
    opts: &GroupTraining,
    clock: &Clock,
    progress: &mut dyn FnMut(&Progress),
) -> Result<FineTuned> {
    let shares = row_shares(data, net.k);
    let share_t = Tensor::from_slice(&shares)
        .to_kind(Kind::Float)
        .to_device(vs.device());
    let (batch, steps_per_epoch) = epoch_plan(data, net.k, opts);
    let mut trainee = TiedTrainee {
        net,
        data,
        batch,
        shares,
        share_t,
    };
    let settings = Loop {
        keep: Keep::Lower,
        rollback: Rollback::Restart,
        patience: 0,
        start: Start::Guarded,
        ..epochs_loop(Phase::FineTune, opts, steps_per_epoch)
    };
    let done = train::run(vs, &mut trainee, opts, &settings, clock, progress)?;
    Ok(FineTuned {
        epochs: done.checks,
        loss_before: done.before[0],
        loss_after: done.after[0],
        kept: done.after[0] < done.before[0],
    })
}

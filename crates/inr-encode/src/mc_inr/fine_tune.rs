//! Deep compression's last step for MC-INR: after quantization, every
//! value the file stores is trained again — the entries of the shared
//! codebooks (which tie all clusters together), the weights that draw
//! them (each as its nearest entry, so that a weight may change entry:
//! `crate::straight_through`) and the parts kept f32 (first
//! layers, biases).

use std::time::Instant;

use tch::nn::{self, OptimizerConfig, VarStore};
use tch::{Kind, Tensor};

use inr_core::error::{Error, Result};
use inr_core::model::shared_codebook::{Role, RoleTables};
use inr_core::model::McInr;

use super::{
    batch_loss, epoch_plan, group_data, leaf_mse, progress_at, restore, sample_rows, select_from,
    snapshot_of, tch_error, Clock, Ctx, Forest, GroupData, GroupTraining, Phase, Progress, Routing,
};
use crate::coordnet::GroupedNet;

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

/// Trains all of `net`'s variables together on the row-weighted loss (the
/// shared tables couple the leaves, so no leaf keeps weights of its own
/// epoch), keeping the best epoch's, and the starting ones unless the
/// result is better over all rows.
fn train_tied(
    vs: &VarStore,
    net: &GroupedNet,
    data: &GroupData,
    opts: &GroupTraining,
    clock: &Clock,
    progress: &mut dyn FnMut(&Progress),
) -> Result<FineTuned> {
    let k = net.k;
    let device = vs.device();
    let shares = row_shares(data, k);
    let share_t = Tensor::from_slice(&shares)
        .to_kind(Kind::Float)
        .to_device(device);
    let (batch, steps_per_epoch) = epoch_plan(data, k, opts);
    let loss_before = weighted(&leaf_mse(net, data)?, &shares);
    let start = snapshot_of(vs);
    let mut best_state = start.iter().map(|t| t.copy()).collect::<Vec<_>>();
    let mut best = loss_before;
    let mut opt = nn::Adam::default().build(vs, opts.lr).map_err(tch_error)?;
    let mut epoch = 0;
    let began = Instant::now();
    let mut step = 0;
    while epoch < opts.max_epochs && !clock.out() {
        let lr = opts.lr_at(epoch, clock.spent(began));
        // Summed on the device: one transfer an epoch, not one a step.
        let mut sum = Tensor::zeros([], (Kind::Float, device));
        for _ in 0..steps_per_epoch {
            opt.set_lr(lr * opts.warmup(step));
            step += 1;
            let idx = sample_rows(data, k, batch, device);
            let l = (batch_loss(net, data, &idx) * &share_t).sum(Kind::Float);
            opt.backward_step(&l);
            sum += l.detach();
        }
        let loss = f64::try_from(&sum).map_err(tch_error)? / steps_per_epoch as f64;
        if !loss.is_finite() {
            return Err(Error::Training(format!(
                "fine-tuning diverged in epoch {epoch}; try a lower --lr"
            )));
        }
        if loss < best {
            best = loss;
            best_state = snapshot_of(vs);
        }
        epoch += 1;
        progress(&progress_at(
            Phase::FineTune,
            epoch,
            opts.max_epochs,
            loss,
            lr,
            clock,
        ));
    }
    restore(vs, &best_state);
    let loss_after = weighted(&leaf_mse(net, data)?, &shares);
    let kept = loss_after < loss_before;
    if !kept {
        restore(vs, &start);
    }
    Ok(FineTuned {
        epochs: epoch,
        loss_before,
        loss_after,
        kept,
    })
}

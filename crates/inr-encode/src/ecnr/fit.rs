//! Training the MLPs of one scale on its blocks: random samples of every
//! MLP's blocks per step (all MLPs at once), the loss each MLP's masked MSE,
//! through the shared training loop.

use tch::{Device, Kind, Tensor};

use inr_core::error::Result;

use super::blocks::Tiling;
use super::stacked::Stacked;
use crate::tensor_values as values;
use crate::train::Trainee;

/// What a scale trains on.
pub struct ScaleData {
    pub tiling: Tiling,
    /// The non-empty blocks, in index order (the latents' rows).
    pub blocks: Vec<usize>,
    /// The MLP of each non-empty block.
    pub mlp_of: Vec<u32>,
    pub mlps: usize,
    pub channels: usize,
    /// `[blocks, volume, channels]`.
    pub targets: Tensor,
    /// `[blocks, volume]`: 1 where the sample exists.
    pub mask: Tensor,
    /// `[volume, 3]`.
    pub coords: Tensor,
    /// `[mlps, most]`: each MLP's rows, repeated to the longest list.
    pub slots: Tensor,
    /// Rows per MLP.
    pub counts: Vec<usize>,
}

impl ScaleData {
    /// The data of `blocks` (with MLPs `mlp_of`) of `scale` (the values to
    /// fit on `tiling`'s grid, `c` channels).
    pub fn new(
        tiling: Tiling,
        scale: &[f32],
        c: usize,
        blocks: Vec<usize>,
        mlp_of: Vec<u32>,
        mlps: usize,
        device: Device,
    ) -> Result<ScaleData> {
        let v = tiling.volume();
        let (targets, mask) = tiling.gather(scale, c, &blocks);
        let n = blocks.len() as i64;
        let mut lists = vec![Vec::new(); mlps];
        for (row, &q) in mlp_of.iter().enumerate() {
            lists[q as usize].push(row as i64);
        }
        let most = lists.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let counts: Vec<usize> = lists.iter().map(Vec::len).collect();
        let slots: Vec<i64> = lists
            .iter()
            .flat_map(|l| (0..most).map(move |i| if l.is_empty() { 0 } else { l[i % l.len()] }))
            .collect();
        Ok(ScaleData {
            targets: Tensor::from_slice(&targets)
                .view([n, v as i64, c as i64])
                .to_device(device),
            mask: Tensor::from_slice(&mask)
                .view([n, v as i64])
                .to_device(device),
            coords: Tensor::from_slice(&tiling.local_coordinates())
                .view([v as i64, 3])
                .to_device(device),
            slots: Tensor::from_slice(&slots)
                .view([mlps as i64, most as i64])
                .to_device(device),
            tiling,
            blocks,
            mlp_of,
            mlps,
            channels: c,
            counts,
        })
    }

    pub fn device(&self) -> Device {
        self.targets.device()
    }

    /// Most rows of one MLP.
    fn most(&self) -> usize {
        self.slots.size()[1] as usize
    }
}

/// A scale's MLPs as the training loop sees them: one network to the loop
/// (the latents have no MLP axis), its loss the MLPs' mean.
pub struct ScaleTrainee<'a> {
    pub net: &'a Stacked,
    pub data: &'a ScaleData,
    /// Samples per MLP and step.
    pub batch: usize,
}

impl Trainee for ScaleTrainee<'_> {
    fn networks(&self) -> usize {
        1
    }

    fn minibatch_loss(&mut self) -> Result<Tensor> {
        let d = self.data;
        let (m, p) = (d.mlps as i64, self.batch as i64);
        let dev = d.device();
        let counts = Tensor::from_slice(&d.counts.iter().map(|&c| c as f32).collect::<Vec<_>>())
            .to_device(dev)
            .view([m, 1]);
        let pick = (Tensor::rand([m, p], (Kind::Float, dev)) * counts)
            .to_kind(Kind::Int64)
            .clamp_max(d.most() as i64 - 1);
        let rows = d.slots.gather(1, &pick, false);
        let v = d.tiling.volume() as i64;
        let local = Tensor::randint(v, [m, p], (Kind::Int64, dev));
        Ok(sample_loss(self.net, d, &rows, &local).mean(Kind::Float))
    }

    fn full_losses(&self) -> Result<Vec<f64>> {
        let per = mlp_losses(self.net, self.data)?;
        Ok(vec![per.iter().sum::<f64>() / per.len().max(1) as f64])
    }
}

/// Each MLP's masked MSE `[m]` on samples `local` of rows `rows` (`[m, P]`).
fn sample_loss(net: &Stacked, d: &ScaleData, rows: &Tensor, local: &Tensor) -> Tensor {
    let (m, p) = (rows.size()[0], rows.size()[1]);
    let c = d.channels as i64;
    let v = d.tiling.volume() as i64;
    let y = net.forward(&net.inputs(&d.coords, local, rows));
    let flat = (rows * v + local).reshape([-1]);
    let t = d
        .targets
        .view([-1, c])
        .index_select(0, &flat)
        .view([m, p, c]);
    let w = d.mask.view([-1]).index_select(0, &flat).view([m, p, 1]);
    let sq = ((y - t).square() * &w).sum_dim_intlist(&[1i64, 2][..], false, Kind::Float);
    sq / (w.sum_dim_intlist(&[1i64, 2][..], false, Kind::Float) * c as f64).clamp_min(1.0)
}

/// Rows of every MLP evaluated per pass of [`each_pass`].
const SLOTS_PER_PASS: usize = 4;

/// Runs the MLPs on every sample of their blocks, a few rows per MLP at a
/// time: `sink(rows [m, s], valid [m, s], predictions [m, s * volume, c])`.
fn each_pass(
    net: &Stacked,
    d: &ScaleData,
    mut sink: impl FnMut(&Tensor, &Tensor, &Tensor) -> Result<()>,
) -> Result<()> {
    let _guard = tch::no_grad_guard();
    let dev = d.device();
    let (m, v) = (d.mlps as i64, d.tiling.volume() as i64);
    let counts = Tensor::from_slice(&d.counts.iter().map(|&c| c as i64).collect::<Vec<_>>())
        .to_device(dev)
        .view([m, 1]);
    let most = d.most();
    for first in (0..most).step_by(SLOTS_PER_PASS) {
        let s = SLOTS_PER_PASS.min(most - first) as i64;
        let rows = d.slots.narrow(1, first as i64, s);
        let slot =
            Tensor::arange_start(first as i64, first as i64 + s, (Kind::Int64, dev)).view([1, s]);
        let valid = slot.lt_tensor(&counts);
        let local = Tensor::arange(v, (Kind::Int64, dev))
            .view([1, 1, v])
            .expand([m, s, v], false)
            .reshape([m, s * v]);
        let rows_each = rows
            .unsqueeze(2)
            .expand([m, s, v], false)
            .reshape([m, s * v]);
        let y = net.forward(&net.inputs(&d.coords, &local, &rows_each));
        sink(&rows, &valid, &y)?;
    }
    Ok(())
}

/// Each MLP's MSE over all the samples of its blocks.
pub fn mlp_losses(net: &Stacked, d: &ScaleData) -> Result<Vec<f64>> {
    let (m, v, c) = (d.mlps as i64, d.tiling.volume() as i64, d.channels as i64);
    let mut sq = Tensor::zeros([m], (Kind::Double, d.device()));
    let mut n = Tensor::zeros([m], (Kind::Double, d.device()));
    each_pass(net, d, |rows, valid, y| {
        let s = rows.size()[1];
        let flat = rows.unsqueeze(2).expand([m, s, v], false).reshape([-1]) * v
            + Tensor::arange(v, (Kind::Int64, d.device())).repeat([m * s]);
        let t = d
            .targets
            .view([-1, c])
            .index_select(0, &flat)
            .view([m, s * v, c]);
        let w = d.mask.view([-1]).index_select(0, &flat).view([m, s, v])
            * valid.unsqueeze(2).to_kind(Kind::Float);
        let w = w.view([m, s * v, 1]);
        sq += ((y - t).square() * &w).sum_dim_intlist(&[1i64, 2][..], false, Kind::Double);
        n += w.sum_dim_intlist(&[1i64, 2][..], false, Kind::Double) * c as f64;
        Ok(())
    })?;
    let sq = values(&sq)?;
    let n = values(&n)?;
    Ok(sq
        .iter()
        .zip(&n)
        .map(|(s, n)| (*s as f64) / (*n as f64).max(1.0))
        .collect())
}

/// The MLPs' values of every non-empty block, `[blocks, volume, c]`.
pub fn predict(net: &Stacked, d: &ScaleData) -> Result<Vec<f32>> {
    let (v, c) = (d.tiling.volume(), d.channels);
    let mut out = vec![0f32; d.blocks.len() * v * c];
    each_pass(net, d, |rows, valid, y| {
        let rows: Vec<i64> =
            Vec::<i64>::try_from(&rows.to_device(Device::Cpu).contiguous().view(-1))
                .map_err(crate::tch_error)?;
        let valid: Vec<bool> =
            Vec::<bool>::try_from(&valid.to_device(Device::Cpu).contiguous().view(-1))
                .map_err(crate::tch_error)?;
        let y = values(y)?;
        for (k, (&row, &ok)) in rows.iter().zip(&valid).enumerate() {
            if ok {
                let src = &y[k * v * c..(k + 1) * v * c];
                out[row as usize * v * c..(row as usize + 1) * v * c].copy_from_slice(src);
            }
        }
        Ok(())
    })?;
    Ok(out)
}

//! The STSR-INR encoder (seed 003, Tang and Wang): one network for many
//! variables, each a latent vector learned as a variational auto-decoder;
//! a modulator network turns it into per-stage modulations of a synthesis
//! SIREN at local space-time coordinates, and one head per sub-volume of
//! the training grid gives the values (docs/format.md §10.5). Trained on
//! every `k`-th sample (`train_stride`), the file still describes the full
//! grid: spatiotemporal super-resolution, measured against interpolation.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tch::nn::VarStore;
use tch::Device;

use inr_core::error::{Error, Result};
use inr_core::format::section::Compression;
use inr_core::format::{FileBuilder, WeightEncoding};
use inr_core::model::stacked::StackedLayer;
use inr_core::model::stsr::StsrParts;
use inr_core::model::Layer;

use crate::clock::Clock;
use crate::data::Samples;
use crate::export::WriteWeights;
use crate::levels::Levels;
use crate::pipeline::{self, Common, Family};
use crate::progress::{Phase, Progress, Stop};
use crate::quality::{self, VariableQuality};
use crate::report::{Details, EncodeReport};
use crate::residual_siren::{weights_name, FineTuneReport};
use crate::size::{Size, SizeModel};
use crate::train::TrainReport;

pub mod baseline;
pub mod fit;
pub mod grid;
pub mod net;
pub mod predict;
pub mod size;

pub use baseline::{SuperResolution, SuperRow};
pub use fit::Vad;
use fit::{FitOptions, TrainSet};
use grid::Grid;
use net::{NetShape, StsrNet, W0};

/// Settings of an STSR-INR encode (the paper's, but for the rate).
#[derive(Clone, Debug)]
pub struct StsrOptions {
    pub size: Size,
    /// Heads along x, y, z (default: 2 where the training grid has an even
    /// number of samples, else 1).
    pub heads: Option<[usize; 3]>,
    /// Train on every `[0]`-th sample along each axis and every `[1]`-th
    /// time step (the last always).
    pub train_stride: [usize; 2],
    pub latent_dim: usize,
    /// Residual blocks of the synthesis and of the modulator network.
    pub blocks: usize,
    /// Sine layers of each head before its linear one.
    pub head_sines: usize,
    /// `None` (the default): a plain auto-decoder, which fits far better in
    /// a CPU budget (docs/benchmarks.md); [`Vad::PAPER`] is the paper's.
    pub vad: Option<Vad>,
    /// Adam's initial rate (cosine to 1 %): default the residual SIREN's
    /// for the width (the paper's 1e-5 needs 600 epochs on a GPU).
    pub lr: Option<f64>,
    pub steps: usize,
    /// Training values per minibatch over all heads and variables.
    pub batch: usize,
    pub patience: usize,
    /// Codebook bits per weight (0: f32).
    pub bits: u8,
    pub finetune_steps: usize,
    /// Default: a tenth of the rate.
    pub finetune_lr: Option<f64>,
    pub seed: u64,
    pub device: Device,
    pub max_time: Option<Duration>,
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl Default for StsrOptions {
    fn default() -> Self {
        StsrOptions {
            size: Size::Ratio(200.0),
            heads: None,
            train_stride: [1, 1],
            latent_dim: 64,
            blocks: 5,
            head_sines: 1,
            vad: None,
            lr: None,
            steps: 20_000,
            batch: 8000,
            patience: 10,
            bits: 9,
            finetune_steps: 2000,
            finetune_lr: None,
            seed: 0,
            device: Device::Cpu,
            max_time: None,
            interrupt: None,
        }
    }
}

/// An STSR-INR model as the file stores it.
#[derive(Clone, Debug)]
pub struct StsrModel(pub StsrParts);

impl WriteWeights for StsrModel {
    fn write_weights(
        &self,
        builder: &mut FileBuilder,
        encoding: WeightEncoding,
    ) -> Result<serde_json::Value> {
        let section = builder.new_section("weights", Compression::Zstd);
        self.0.write(builder, section, encoding)
    }
}

/// The file's model of `grid` and `shape` with these weights.
fn parts(
    grid: &Grid,
    shape: NetShape,
    latents: Vec<f32>,
    stages: Vec<(Layer, Layer)>,
    head_layers: Vec<StackedLayer>,
) -> StsrParts {
    StsrParts {
        sites: grid.association,
        time: if shape.inputs == 4 {
            grid.time_affine()
        } else {
            None
        },
        heads: grid.heads.map(|h| h as u64),
        head_grid: grid.train.map(|m| m as u64),
        head_stride: grid.stride.map(|k| k as u64),
        latent_dim: shape.latent_dim,
        latents,
        stages,
        outputs: shape.outputs,
        head_layers,
    }
}

/// Trains an STSR-INR model on `samples` and writes the file's bytes.
pub fn encode(
    samples: &Samples,
    opts: &StsrOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<EncodeReport<StsrDetails>> {
    let common = Common {
        size: opts.size,
        bits: opts.bits,
        omega: W0,
        seed: opts.seed,
        device: opts.device,
        max_time: opts.max_time,
        interrupt: opts.interrupt.clone(),
    };
    let family = StsrFamily {
        opts,
        grid: None,
        trained: None,
        superres: None,
    };
    pipeline::encode(samples, &common, family, progress)
}

struct StsrFamily<'a> {
    opts: &'a StsrOptions,
    grid: Option<Grid>,
    trained: Option<Trained>,
    superres: Option<SuperResolution>,
}

/// The trained network, and later its quantized copy.
struct Trained {
    set: TrainSet,
    net: StsrNet,
    lr: f64,
    report: TrainReport,
    quantized: Option<(StsrNet, Option<FineTuneReport>, VarStore)>,
    _vs: VarStore,
}

impl Trained {
    /// The network the file stores.
    fn stored(&self) -> &StsrNet {
        self.quantized.as_ref().map_or(&self.net, |q| &q.0)
    }
}

impl StsrFamily<'_> {
    fn grid(&self) -> &Grid {
        self.grid.as_ref().expect("prepared first")
    }

    fn shape(&self, samples: &Samples, width: usize) -> NetShape {
        let grid = self.grid();
        NetShape {
            inputs: if grid.time_affine().is_some() { 4 } else { 3 },
            latent_dim: self.opts.latent_dim,
            width,
            blocks: self.opts.blocks,
            heads: grid.head_count(),
            head_sines: self.opts.head_sines,
            outputs: samples
                .variables
                .iter()
                .map(|v| v.components)
                .max()
                .unwrap_or(1),
            variables: samples.variables.len(),
        }
    }

    /// `net`'s quality at every native sample, and the super-resolution
    /// comparison when some samples were held out.
    fn measure(&mut self, samples: &Samples, net: &StsrNet) -> Result<Vec<VariableQuality>> {
        let grid = self.grid();
        let predictions = predict::predict(net, grid, samples)?;
        if !grid.is_full() {
            self.superres = Some(baseline::compare(samples, grid, &predictions));
        }
        quality::measure(samples, |p| Ok(unscale(samples, &predictions[p])))
    }
}

/// Scaled values laid out as a part's targets, in the variables' units.
fn unscale(samples: &Samples, values: &[f32]) -> Vec<f64> {
    let comps: Vec<(usize, usize)> = (samples.variables.iter().enumerate())
        .flat_map(|(v, var)| (0..var.components).map(move |c| (v, c)))
        .collect();
    (values.iter().enumerate())
        .map(|(i, &y)| {
            let (v, c) = comps[i % comps.len()];
            samples.unscale(v, c, y as f64)
        })
        .collect()
}

impl Family for StsrFamily<'_> {
    type Details = StsrDetails;

    fn prepare(&mut self, samples: &Samples, _: &Common) -> Result<()> {
        let o = self.opts;
        if o.latent_dim == 0 || o.latent_dim > 65536 || o.blocks > 1000 || o.head_sines > 1000 {
            return Err(Error::InvalidArgument(
                "--latent-length must be 1 to 65536, --stsr-blocks and head layers at most 1000"
                    .into(),
            ));
        }
        if o.steps == 0 || o.batch == 0 {
            return Err(Error::InvalidArgument(
                "--steps and --batch must be above 0".into(),
            ));
        }
        if let Some(lr) = o.lr {
            crate::check_lr("--lr", lr)?;
        }
        if let Some(v) = o.vad {
            if !(v.log_var.is_finite() && v.kld_weight.is_finite() && v.kld_weight >= 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "VAD settings {v:?} (finite, λ >= 0)"
                )));
            }
        }
        let grid = Grid::new(samples, o.train_stride, o.heads)?;
        log::info!(
            "STSR-INR: training grid {:?} (stride {:?}) of {:?}, {} of {} steps, heads {:?}",
            grid.train,
            grid.stride,
            grid.native,
            grid.steps.len(),
            grid.times.len(),
            grid.heads
        );
        self.grid = Some(grid);
        Ok(())
    }

    fn size_model<'a>(&'a self, samples: &'a Samples, common: &Common) -> Box<dyn SizeModel + 'a> {
        Box::new(size::StsrSize {
            samples,
            grid: self.grid(),
            shape: self.shape(samples, 0),
            encoding: common.encoding(),
        })
    }

    fn fine_tunes(&self, _: &Common) -> bool {
        self.opts.bits > 0 && self.opts.finetune_steps > 0
    }

    fn train(
        &mut self,
        samples: &Samples,
        common: &Common,
        width: usize,
        clock: &Clock,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Vec<VariableQuality>> {
        let shape = self.shape(samples, width);
        let set = TrainSet::new(samples, self.grid(), shape.outputs, common.device)?;
        let vs = VarStore::new(common.device);
        let net = StsrNet::new(&vs, shape);
        let lr = self.opts.lr.unwrap_or(crate::default_lr(width));
        let fit_opts = FitOptions {
            steps: self.opts.steps,
            batch: self.opts.batch,
            lr,
            patience: self.opts.patience,
            vad: self.opts.vad,
        };
        let report = fit::fit(&vs, &net, &set, &fit_opts, Phase::Train, clock, progress)?.report;
        let quality = self.measure(samples, &net)?;
        self.trained = Some(Trained {
            set,
            net,
            lr,
            report,
            quantized: None,
            _vs: vs,
        });
        Ok(quality)
    }

    fn quantize(
        &mut self,
        samples: &Samples,
        common: &Common,
        clock: &Clock,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Vec<VariableQuality>> {
        let o = self.opts;
        let t = self.trained.as_ref().expect("trained first");
        let levels = Levels::uniform(&t.net.shape.tensor_sizes(), common.bits);
        let vs = VarStore::new(common.device);
        let net = t.net.quantized(&vs, &levels)?;
        let finetune = if self.fine_tunes(common) && t.report.stop != Stop::Interrupted {
            let fit_opts = FitOptions {
                steps: o.finetune_steps,
                batch: o.batch,
                lr: o.finetune_lr.unwrap_or(t.lr / 10.0),
                patience: o.patience,
                vad: o.vad,
            };
            let clock = Clock::new(
                clock.left().map(|l| l.max(Duration::from_secs(1))),
                o.interrupt.clone(),
            );
            let done = fit::fit(
                &vs,
                &net,
                &t.set,
                &fit_opts,
                Phase::FineTune,
                &clock,
                progress,
            )?;
            Some(FineTuneReport {
                train: done.report,
                loss_before: done.before[0],
                loss_after: done.after[0],
                kept: done.after[0] < done.before[0],
            })
        } else {
            None
        };
        let quality = self.measure(samples, &net)?;
        let t = self.trained.as_mut().expect("trained first");
        t.quantized = Some((net, finetune, vs));
        Ok(quality)
    }

    fn weights(&self, _: &Samples, common: &Common) -> Result<(Box<dyn WriteWeights>, String)> {
        let t = self.trained.as_ref().expect("trained first");
        let net = t.stored();
        let (latents, stages, heads) = net.export()?;
        let model = StsrModel(parts(self.grid(), net.shape, latents, stages, heads));
        Ok((Box::new(model), self.description(t, common)))
    }

    fn details(self, common: &Common) -> StsrDetails {
        let grid = self.grid.expect("prepared first");
        let t = self.trained.expect("trained first");
        StsrDetails {
            shape: t.net.shape,
            native: grid.native,
            train: grid.train,
            stride: grid.stride,
            heads: grid.heads,
            steps: (grid.steps.len(), grid.times.len()),
            vad: self.opts.vad,
            bits: common.bits,
            lr: t.lr,
            training: t.report,
            finetune: t.quantized.and_then(|q| q.1),
            superres: self.superres,
        }
    }
}

impl StsrFamily<'_> {
    /// The file's `encoder` attribute.
    fn description(&self, t: &Trained, common: &Common) -> String {
        let (o, s) = (self.opts, t.net.shape);
        let vad = match o.vad {
            Some(v) => format!("vad log var {} kld {}", v.log_var, v.kld_weight),
            None => "auto-decoder".into(),
        };
        let tuned = match t.quantized.as_ref().and_then(|q| q.1) {
            Some(f) if f.kept => format!(", codebooks fine-tuned {} steps", f.train.steps),
            _ => String::new(),
        };
        format!(
            "stsr width {} blocks {} latent {} heads {:?} head sines {} w0 {W0}, {} steps, batch {}, lr {}, {vad}, seed {}, {}{tuned}",
            s.width, s.blocks, s.latent_dim, self.grid().heads, s.head_sines,
            t.report.steps, o.batch, t.lr, o.seed, weights_name(common.bits)
        )
    }
}

/// What an STSR-INR encode did.
#[derive(Clone, Debug)]
pub struct StsrDetails {
    pub shape: NetShape,
    pub native: [usize; 3],
    pub train: [usize; 3],
    pub stride: [usize; 3],
    pub heads: [usize; 3],
    /// Time steps trained on, of all.
    pub steps: (usize, usize),
    pub vad: Option<Vad>,
    pub bits: u8,
    pub lr: f64,
    pub training: TrainReport,
    pub finetune: Option<FineTuneReport>,
    /// With held-out samples: the network against interpolation.
    pub superres: Option<SuperResolution>,
}

impl Details for StsrDetails {
    fn text(&self, device: &str) -> String {
        let s = &self.shape;
        let [hx, hy, hz] = self.heads;
        let vad = match self.vad {
            Some(v) => format!("VAD log σ² {} λ {}", v.log_var, v.kld_weight),
            None => "auto-decoder".into(),
        };
        let mut out = format!(
            "STSR-INR: width {}, {} residual blocks per network, latent {} ({vad}), {} heads ({hx}x{hy}x{hz}) of {} sine + linear, w0 {W0}, {} parameters, {}\n",
            s.width, s.blocks, s.latent_dim, s.heads, s.head_sines, s.parameters(), weights_name(self.bits)
        );
        let [mx, my, mz] = self.train;
        let [nx, ny, nz] = self.native;
        out += &format!(
            "training grid {mx}x{my}x{mz} (stride {:?}) of {nx}x{ny}x{nz}, {} of {} time steps\n",
            self.stride, self.steps.0, self.steps.1
        );
        let t = &self.training;
        out += &format!(
            "training: {} steps in {:.1} s on {device} ({}), lr {:.1e}, loss {:.3e}\n",
            t.steps,
            t.elapsed.as_secs_f64(),
            t.stop.describe(),
            self.lr,
            t.final_loss
        );
        if let Some(f) = &self.finetune {
            out += &format!(
                "fine-tuning of the codebooks: {} steps in {:.1} s, loss over the training values {:.3e} -> {:.3e}, {}\n",
                f.train.steps, f.train.elapsed.as_secs_f64(), f.loss_before, f.loss_after,
                if f.kept { "kept" } else { "not kept (no gain)" }
            );
        }
        if let Some(sr) = &self.superres {
            out += &superres_text(sr);
        }
        out
    }

    fn json(&self) -> serde_json::Map<String, serde_json::Value> {
        let (s, t) = (&self.shape, &self.training);
        let value = json!({
            "method": "stsr",
            "network": {"width": s.width, "blocks": s.blocks, "latent_dim": s.latent_dim,
                        "heads": self.heads, "head_sines": s.head_sines, "w0": W0,
                        "parameters": s.parameters(), "bits": self.bits,
                        "vad": self.vad.map(|v| json!({"log_var": v.log_var, "kld_weight": v.kld_weight}))},
            "grid": {"native": self.native, "train": self.train, "stride": self.stride,
                     "steps": self.steps.0, "native_steps": self.steps.1},
            "training": {"steps": t.steps, "lr": self.lr, "seconds": t.elapsed.as_secs_f64(),
                         "stop": t.stop.name(), "final_loss": t.final_loss, "rollbacks": t.rollbacks},
            "finetune": self.finetune.map(|f| json!({
                "steps": f.train.steps, "seconds": f.train.elapsed.as_secs_f64(), "kept": f.kept,
                "loss_before": f.loss_before, "loss_after": f.loss_after})),
            "super_resolution": self.superres.as_ref().map(superres_json),
        });
        match value {
            serde_json::Value::Object(m) => m,
            _ => unreachable!("an object"),
        }
    }
}

/// The super-resolution table: PSNR of the stored network and of
/// interpolation, at every sample and at the held-out ones.
fn superres_text(sr: &SuperResolution) -> String {
    let name = sr
        .rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let mut out = format!(
        "super-resolution ({} of {} samples held out), PSNR dB:\n{:<name$} {:>12} {:>12} {:>12} {:>12}\n",
        sr.held_out, sr.samples, "variable", "network all", "interp all", "network held", "interp held"
    );
    let row = |n: &str, a: f64, b: f64, c: f64, d: f64| {
        format!("{n:<name$} {a:>12.2} {b:>12.2} {c:>12.2} {d:>12.2}\n")
    };
    for r in &sr.rows {
        out += &row(
            &r.name,
            r.network_all,
            r.interpolation_all,
            r.network_held_out,
            r.interpolation_held_out,
        );
    }
    let mean =
        |f: fn(&SuperRow) -> f64| sr.rows.iter().map(f).sum::<f64>() / sr.rows.len().max(1) as f64;
    out += &row(
        "mean",
        mean(|r| r.network_all),
        mean(|r| r.interpolation_all),
        mean(|r| r.network_held_out),
        mean(|r| r.interpolation_held_out),
    );
    out
}

fn superres_json(sr: &SuperResolution) -> serde_json::Value {
    let rows: Vec<_> = (sr.rows.iter())
        .map(|r| {
            json!({"name": r.name, "network_psnr": r.network_all, "network_held_out_psnr": r.network_held_out,
                   "interpolation_psnr": r.interpolation_all, "interpolation_held_out_psnr": r.interpolation_held_out})
        })
        .collect();
    json!({"samples": sr.samples, "held_out": sr.held_out, "variables": rows})
}

//! The residual SIREN family: one network for all variables, trained on
//! random minibatches, quantized by per-tensor k-means codebooks (deep
//! compression) whose values are then fine-tuned.

use std::time::Duration;

use serde_json::json;
use tch::nn::VarStore;
use tch::Device;

use inr_core::error::Result;

use crate::check_lr;
use crate::clock::Clock;
use crate::data::Samples;
use crate::export::WriteWeights;
use crate::levels::{self, Levels};
use crate::pipeline::{self, Common, Family};
use crate::progress::{Phase, Progress, Stop};
use crate::quality::{self, VariableQuality};
use crate::report::{Details, EncodeReport};
use crate::siren::{self, Shape};
use crate::siren_train::{self, TrainData, TrainOptions};
use crate::size::{self, SirenSize, Size, SizeModel};
use crate::train::TrainReport;

/// Encoder settings.
#[derive(Clone, Debug)]
pub struct EncodeOptions {
    pub size: Size,
    /// Residual blocks.
    pub blocks: usize,
    /// Codebook bits per weight; 0 stores f32 weights.
    pub bits: u8,
    /// Frequency of the first sine layer along the spatial axes (SIREN's
    /// omega_0, [`siren::W0`] by default).
    pub omega: f64,
    pub train: TrainOptions,
    /// Steps of codebook fine-tuning after quantization (0: none).
    pub finetune_steps: usize,
    /// Initial learning rate of the fine-tuning.
    pub finetune_lr: f64,
    /// Seeds libtorch's generator, which is global to the process: encodes
    /// running at the same time in one process are not repeatable.
    pub seed: u64,
    pub device: Device,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        let train = TrainOptions::default();
        EncodeOptions {
            size: Size::Ratio(50.0),
            blocks: 3,
            bits: 9,
            omega: siren::W0,
            finetune_steps: train.steps / 10,
            finetune_lr: train.lr / 10.0,
            train,
            seed: 0,
            device: Device::cuda_if_available(),
        }
    }
}

impl EncodeOptions {
    /// The settings every family shares.
    pub fn common(&self) -> Common {
        Common {
            size: self.size,
            bits: self.bits,
            omega: self.omega,
            seed: self.seed,
            device: self.device,
            max_time: self.train.max_time,
            interrupt: self.train.interrupt.clone(),
        }
    }

    /// Whether the codebooks are fine-tuned after quantization.
    fn fine_tunes(&self) -> bool {
        self.bits > 0 && self.finetune_steps > 0
    }
}

/// What the codebook fine-tuning did.
#[derive(Clone, Copy, Debug)]
pub struct FineTuneReport {
    pub train: TrainReport,
    /// MSE over all sites (in [-1, 1] units) of the quantized network
    /// before and after fine-tuning.
    pub loss_before: f64,
    pub loss_after: f64,
    /// Whether the fine-tuned codebooks were kept (they are only when they
    /// lower the loss over all sites).
    pub kept: bool,
}

/// The network shape `opts` asks for on `samples`.
pub fn choose_shape(samples: &Samples, opts: &EncodeOptions) -> Result<Shape> {
    let family = SirenFamily {
        opts,
        trained: None,
    };
    let model = family.size_model(samples, &opts.common());
    let width = opts.size.width(samples.raw_f32_bytes(), model.as_ref())?;
    Ok(Shape {
        inputs: samples.inputs(),
        width,
        blocks: opts.blocks,
        outputs: samples.outputs(),
    })
}

/// Trains a network on `samples` and writes the file's bytes; `progress`
/// sees the loss at every check of the training and of the fine-tuning.
pub fn encode(
    samples: &Samples,
    opts: &EncodeOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<EncodeReport<SirenDetails>> {
    let family = SirenFamily {
        opts,
        trained: None,
    };
    pipeline::encode(samples, &opts.common(), family, progress)
}

/// The residual SIREN in the pipeline.
struct SirenFamily<'a> {
    opts: &'a EncodeOptions,
    trained: Option<Trained>,
}

/// The trained network, and later its quantized copy.
struct Trained {
    shape: Shape,
    data: TrainData,
    net: siren::Siren,
    report: TrainReport,
    quantized: Option<Quantized>,
    /// The store of the network's variables.
    _vs: VarStore,
}

/// The network quantized to codebooks, and its fine-tuning.
struct Quantized {
    net: siren::Siren,
    levels: Levels,
    finetune: Option<FineTuneReport>,
    _vs: VarStore,
}

impl SirenFamily<'_> {
    fn trained(&self) -> &Trained {
        self.trained.as_ref().expect("the pipeline trains first")
    }
}

impl Family for SirenFamily<'_> {
    type Details = SirenDetails;

    fn prepare(&mut self, _: &Samples, _: &Common) -> Result<()> {
        check_lr("--lr", self.opts.train.lr)?;
        check_lr("--finetune-lr", self.opts.finetune_lr)
    }

    fn size_model<'a>(&'a self, samples: &'a Samples, common: &Common) -> Box<dyn SizeModel + 'a> {
        Box::new(SirenSize {
            samples,
            blocks: self.opts.blocks,
            encoding: common.encoding(),
        })
    }

    fn fine_tunes(&self, _: &Common) -> bool {
        self.opts.fine_tunes()
    }

    fn train(
        &mut self,
        samples: &Samples,
        common: &Common,
        width: usize,
        clock: &Clock,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Vec<VariableQuality>> {
        let shape = Shape {
            inputs: samples.inputs(),
            width,
            blocks: self.opts.blocks,
            outputs: samples.outputs(),
        };
        let data = TrainData::new(samples, common.omega, common.device)?;
        let vs = VarStore::new(common.device);
        let net = siren::Siren::new(&vs, shape);
        let opts = TrainOptions {
            max_time: clock.left(),
            ..self.opts.train.clone()
        };
        let report = siren_train::train(&vs, &net, &data, &opts, Phase::Train, progress)?.report;
        let quality = network_quality_of(samples, &net, &data)?;
        self.trained = Some(Trained {
            shape,
            data,
            net,
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
        let opts = self.opts;
        let t = self.trained.as_mut().expect("the pipeline trains first");
        let levels = levels_for(samples, common, t)?;
        let vs = VarStore::new(common.device);
        let net = t.net.quantized(&vs, &levels)?;
        let finetune = if opts.fine_tunes() && t.report.stop != Stop::Interrupted {
            Some(fine_tune(&vs, &net, &t.data, opts, clock.left(), progress)?)
        } else {
            None
        };
        let quality = network_quality_of(samples, &net, &t.data)?;
        t.quantized = Some(Quantized {
            net,
            levels,
            finetune,
            _vs: vs,
        });
        Ok(quality)
    }

    fn weights(
        &self,
        samples: &Samples,
        common: &Common,
    ) -> Result<(Box<dyn WriteWeights>, String)> {
        let t = self.trained();
        let (net, finetune) = match &t.quantized {
            Some(q) => (&q.net, q.finetune),
            None => (&t.net, None),
        };
        let (scale, shift) = samples.input_affine(common.omega);
        let description = description(self.opts, t.shape, &t.report, &finetune);
        Ok((Box::new(net.export(scale, shift)?), description))
    }

    fn details(self, common: &Common) -> SirenDetails {
        let t = self.trained.expect("the pipeline trains first");
        SirenDetails {
            shape: t.shape,
            bits: common.bits,
            omega: common.omega,
            train: t.report,
            reduced: t
                .quantized
                .as_ref()
                .and_then(|q| q.levels.reduced(common.bits)),
            finetune: t.quantized.and_then(|q| q.finetune),
        }
    }
}

/// Each tensor's codebook levels: with a size target, as many as fill it
/// ([`levels::fill`], measured on the trained weights); else `2^bits`
/// where such a codebook pays.
fn levels_for(samples: &Samples, common: &Common, t: &Trained) -> Result<Levels> {
    let sizes = t.shape.tensor_sizes();
    let Some(target) = common.size.target(samples.raw_f32_bytes())? else {
        return Ok(Levels::uniform(&sizes, common.bits));
    };
    let size = SirenSize {
        samples,
        blocks: t.shape.blocks,
        encoding: common.encoding(),
    };
    let (scale, shift) = samples.input_affine(common.omega);
    let trained = t.net.export(scale, shift)?;
    let budget = size::within(target);
    let levels = levels::fill(&sizes, common.bits, &mut |plan| {
        Ok(size.bytes_of(t.shape, &trained, plan)? <= budget)
    })?;
    log::debug!("codebook levels per tensor: {:?}", levels.0);
    Ok(levels)
}

/// Deep compression's last step: trains the codebook values of the
/// quantized network `q` (the k-means assignment fixed); the loop keeps the
/// result only when it lowers the loss over all sites.
fn fine_tune(
    qvs: &VarStore,
    q: &siren::Siren,
    data: &TrainData,
    opts: &EncodeOptions,
    time_left: Option<Duration>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<FineTuneReport> {
    let ft_opts = TrainOptions {
        steps: opts.finetune_steps,
        lr: opts.finetune_lr,
        max_time: time_left.map(|t| t.max(Duration::from_secs(1))),
        ..opts.train.clone()
    };
    let done = siren_train::train(qvs, q, data, &ft_opts, Phase::FineTune, progress)?;
    Ok(FineTuneReport {
        train: done.report,
        loss_before: done.before[0],
        loss_after: done.after[0],
        kept: done.after[0] < done.before[0],
    })
}

/// The network's quality at every site (libtorch, in the variables' units).
fn network_quality_of(
    samples: &Samples,
    net: &siren::Siren,
    data: &TrainData,
) -> Result<Vec<VariableQuality>> {
    let predictions = siren_train::predict(net, data)?;
    let c = net.shape.outputs;
    let mut row = 0;
    quality::measure(samples, |p| {
        let part = &samples.parts[p];
        let mut out = Vec::with_capacity(part.targets.len());
        for r in row..row + part.len() {
            let y = &predictions[r * c..(r + 1) * c];
            for &v in &part.variables {
                let var = &samples.variables[v];
                for k in 0..var.components {
                    out.push(samples.unscale(v, k, y[var.column + k] as f64));
                }
            }
        }
        row += part.len();
        Ok(out)
    })
}

/// The file's description of how it was made.
fn description(
    opts: &EncodeOptions,
    shape: Shape,
    report: &TrainReport,
    finetune: &Option<FineTuneReport>,
) -> String {
    let tuned = match finetune {
        Some(f) if f.kept => format!(", codebooks fine-tuned {} steps", f.train.steps),
        _ => String::new(),
    };
    format!(
        "residual siren width {} blocks {} omega {}, {} steps, batch {}, lr {}, seed {}, {}{tuned}",
        shape.width,
        shape.blocks,
        opts.omega,
        report.steps,
        opts.train.batch,
        opts.train.lr,
        opts.seed,
        weights_name(opts.bits),
    )
}

/// `9-bit codebooks`, or `f32 weights`.
pub fn weights_name(bits: u8) -> String {
    match bits {
        0 => "f32 weights".to_string(),
        b => format!("{b}-bit codebooks"),
    }
}

/// The residual SIREN's account of an encode.
#[derive(Clone, Copy, Debug)]
pub struct SirenDetails {
    pub shape: Shape,
    pub bits: u8,
    pub omega: f64,
    pub train: TrainReport,
    /// Tensors given fewer than `2^bits` levels to fill the budget: how
    /// many, their fewest and most levels.
    pub reduced: Option<(usize, usize, usize)>,
    pub finetune: Option<FineTuneReport>,
}

impl Details for SirenDetails {
    fn text(&self, device: &str) -> String {
        let (s, t) = (&self.shape, &self.train);
        let reduced = match self.reduced {
            Some((n, lo, hi)) if lo == hi => format!(" ({n} tensors on {lo} levels)"),
            Some((n, lo, hi)) => format!(" ({n} tensors on {lo}-{hi} levels)"),
            None => String::new(),
        };
        let mut out = format!(
            "network: width {} blocks {} ({} parameters), {}{reduced}\n",
            s.width,
            s.blocks,
            s.parameters(),
            weights_name(self.bits)
        );
        out += &format!(
            "training: {} steps in {:.1} s on {device} ({}), loss {:.3e}{}\n",
            t.steps,
            t.elapsed.as_secs_f64(),
            t.stop.describe(),
            t.final_loss,
            match t.rollbacks {
                0 => String::new(),
                n => format!(", {n} rollback(s) to the best weights after a jump of the loss"),
            }
        );
        if let Some(f) = &self.finetune {
            out += &format!(
                "fine-tuning of the codebooks: {} steps in {:.1} s ({}), loss over all sites {:.3e} -> {:.3e}, {}\n",
                f.train.steps,
                f.train.elapsed.as_secs_f64(),
                f.train.stop.describe(),
                f.loss_before,
                f.loss_after,
                if f.kept { "kept" } else { "not kept (no gain)" }
            );
        }
        out
    }

    fn json(&self) -> serde_json::Map<String, serde_json::Value> {
        let (s, t) = (&self.shape, &self.train);
        let value = json!({
            "network": {"width": s.width, "blocks": s.blocks, "inputs": s.inputs, "outputs": s.outputs,
                        "parameters": s.parameters(), "bits": self.bits, "omega": self.omega,
                        "reduced_levels": self.reduced.map(|(n, lo, hi)| json!({"tensors": n, "min": lo, "max": hi}))},
            "training": {"steps": t.steps, "lr": t.lr, "seconds": t.elapsed.as_secs_f64(),
                         "stop": t.stop.name(), "final_loss": t.final_loss, "rollbacks": t.rollbacks},
            "finetune": self.finetune.map(|f| json!({
                "steps": f.train.steps, "seconds": f.train.elapsed.as_secs_f64(), "kept": f.kept,
                "stop": f.train.stop.name(), "loss_before": f.loss_before, "loss_after": f.loss_after})),
        });
        match value {
            serde_json::Value::Object(m) => m,
            _ => unreachable!("an object"),
        }
    }
}

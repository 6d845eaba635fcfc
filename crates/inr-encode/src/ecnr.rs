//! The ECNR encoder (seed 002): a Laplacian pyramid over space and time,
//! each scale cut into equal blocks, the blocks worth their bytes fitted by
//! tiny sine MLPs (similar blocks share an MLP, each block has a latent
//! code), block-guided pruning, one quantization table per scale and role,
//! zstd sections. The decoder sums the scales (docs/format.md §10.4).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use tch::Device;

use inr_core::error::{Error, Result};

use crate::clock::Clock;
use crate::data::Samples;
use crate::export::WriteWeights;
use crate::pipeline::{self, Common, Family};
use crate::progress::Progress;
use crate::quality::{self, VariableQuality};
use crate::report::{Details, EncodeReport};
use crate::size::{Size, SizeModel};

pub mod assign;
pub mod blocks;
pub mod fit;
pub mod plan;
pub mod prune;
pub mod pyramid;
pub mod quantize;
pub mod scale;
pub mod stacked;
pub mod standin;
pub mod volume;
pub mod write;

use blocks::Tiling;
use plan::{Candidates, Costs, ScalePlan};
use pyramid::Level;
use scale::{ScaleTraining, SPARSITY};
use stacked::MlpShape;
use volume::Volume;
use write::EcnrModel;

/// Settings of an ECNR encode (the paper's defaults).
#[derive(Clone, Debug)]
pub struct EcnrOptions {
    /// The file's size; `Size::Width` sets the MLPs' width and keeps every
    /// block that is not negligible.
    pub size: Size,
    /// Scales of the pyramid (the paper's 3).
    pub scales: usize,
    /// Block size in samples (default: about an eighth of each axis).
    pub block: Option<[usize; 3]>,
    pub latent_dim: usize,
    /// Hidden width of the MLPs under a size target (narrowed, down to
    /// 8, when the budget cannot hold the coarsest scale at it).
    pub width: usize,
    pub sine_layers: usize,
    /// Blocks per MLP, coarsest scale first (default: the paper's 8, 16,
    /// 32 for time series, 1, 2, 4 for one step).
    pub blocks_per_mlp: Option<Vec<usize>>,
    /// Adam's rate (constant, times 0.75 after each pruning round): the
    /// paper's 1e-3 is for 500 epochs; 3e-3 fits more within a CPU budget
    /// (docs/benchmarks.md).
    pub lr: f64,
    pub epochs: usize,
    pub batch: usize,
    pub prune: bool,
    /// Table bits (0: f32 values).
    pub bits: u8,
    pub seed: u64,
    pub device: Device,
    pub max_time: Option<Duration>,
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl Default for EcnrOptions {
    fn default() -> Self {
        EcnrOptions {
            size: Size::Ratio(200.0),
            scales: 3,
            block: None,
            latent_dim: 8,
            width: 24,
            sine_layers: 3,
            blocks_per_mlp: None,
            lr: 3e-3,
            epochs: 500,
            batch: 32_768,
            prune: true,
            bits: 8,
            seed: 0,
            device: Device::Cpu,
            max_time: None,
            interrupt: None,
        }
    }
}

/// What an ECNR encode did.
#[derive(Clone, Debug)]
pub struct EcnrDetails {
    pub block: [usize; 3],
    pub latent_dim: usize,
    pub width: usize,
    pub sine_layers: usize,
    pub bits: u8,
    pub scales: Vec<ScaleReport>,
}

/// One scale in the report.
#[derive(Clone, Debug)]
pub struct ScaleReport {
    pub factor: usize,
    pub blocks: usize,
    pub kept: usize,
    pub mlps: usize,
    pub steps: usize,
    pub sparsity: f64,
    /// The MLPs' MSE on their blocks (scaled units), as stored.
    pub mse: f64,
}

impl Details for EcnrDetails {
    fn text(&self, device: &str) -> String {
        let mut s = format!(
            "ECNR: {} scales, {}x{}x{} blocks, latent {}, MLPs of width {} ({} sine layers), {}-bit tables, on {device}\n",
            self.scales.len(),
            self.block[0],
            self.block[1],
            self.block[2],
            self.latent_dim,
            self.width,
            self.sine_layers,
            self.bits,
        );
        for (k, r) in self.scales.iter().enumerate() {
            s += &format!(
                "  scale {} (factor {}): {} of {} blocks, {} MLPs, {} steps, sparsity {:.0} %, MSE {:.3e}\n",
                k + 1,
                r.factor,
                r.kept,
                r.blocks,
                r.mlps,
                r.steps,
                100.0 * r.sparsity,
                r.mse
            );
        }
        s
    }

    fn json(&self) -> serde_json::Map<String, serde_json::Value> {
        let scales: Vec<_> = self
            .scales
            .iter()
            .map(|r| {
                serde_json::json!({"factor": r.factor, "blocks": r.blocks, "kept": r.kept,
                    "mlps": r.mlps, "steps": r.steps, "sparsity": r.sparsity, "mse": r.mse})
            })
            .collect();
        let value = serde_json::json!({
            "method": "ecnr",
            "network": {"block": self.block, "latent_dim": self.latent_dim, "width": self.width,
                        "sine_layers": self.sine_layers, "bits": self.bits},
            "training": {"scales": scales},
        });
        match value {
            serde_json::Value::Object(m) => m,
            _ => unreachable!("an object"),
        }
    }
}

/// Trains an ECNR model on `samples` and writes the file's bytes.
pub fn encode(
    samples: &Samples,
    opts: &EcnrOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<EncodeReport<EcnrDetails>> {
    let common = Common {
        size: opts.size,
        bits: opts.bits,
        omega: crate::siren::W0,
        seed: opts.seed,
        device: opts.device,
        max_time: opts.max_time,
        interrupt: opts.interrupt.clone(),
    };
    let family = EcnrFamily {
        opts,
        prepared: None,
        trained: None,
    };
    pipeline::encode(samples, &common, family, progress)
}

/// What `prepare` works out: the data's pyramid and the budget's plan.
struct Prepared {
    volume: Volume,
    levels: Vec<Level>,
    tilings: Vec<Tiling>,
    /// Per scale, the useful blocks by decreasing energy (the data's own
    /// pyramid).
    ranked: Vec<Vec<usize>>,
    plans: Vec<ScalePlan>,
    costs: Costs,
    /// Blocks per MLP as the user gave them (else the budget scales them).
    user_sharing: bool,
}

impl Prepared {
    /// The stand-in of `plans` at `width`.
    fn standin(&self, plans: &[ScalePlan], width: usize) -> EcnrModel {
        let spec = standin::Spec {
            sites: self.volume.association,
            tilings: &self.tilings,
            ranked: &self.ranked,
            shape: MlpShape {
                width,
                ..self.costs.shape
            },
            bits: self.costs.bits,
            sparsity: self.costs.sparsity,
        };
        standin::model(&spec, plans)
    }
}

/// The bytes a size target counts of `model`'s file.
fn file_bytes(samples: &Samples, model: &EcnrModel) -> Result<u64> {
    let description = "ecnr 3 scales block [16, 16, 16] latent 16 width 24 sine layers 3 blocks per MLP Some([32, 64, 128]), epochs 1000000, batch 1000000, lr 0.0001, not pruned, 16-bit tables, seed 18446744073709551615";
    let attributes =
        std::collections::BTreeMap::from([("encoder".to_string(), description.to_string())]);
    crate::export::model_bytes_of(
        samples,
        model,
        inr_core::format::WeightEncoding::F32,
        attributes,
    )
}

/// What training made.
struct Trained {
    model: EcnrModel,
    reports: Vec<ScaleReport>,
    network_quality: Vec<VariableQuality>,
    stored_quality: Vec<VariableQuality>,
}

struct EcnrFamily<'a> {
    opts: &'a EcnrOptions,
    prepared: Option<Prepared>,
    trained: Option<Trained>,
}

impl EcnrFamily<'_> {
    fn shape(&self, width: usize, outputs: usize) -> MlpShape {
        MlpShape {
            latent_dim: self.opts.latent_dim,
            width,
            sine_layers: self.opts.sine_layers.max(1),
            outputs,
        }
    }

    fn per_mlp(&self, levels: usize, timed: bool) -> Vec<usize> {
        match &self.opts.blocks_per_mlp {
            Some(v) => (0..levels)
                .map(|s| v.get(s).or(v.last()).copied().unwrap_or(1).max(1))
                .collect(),
            None => {
                let base = if timed { 8 } else { 1 };
                (0..levels)
                    .map(|s| base * (4usize >> (levels - 1 - s).min(2)).max(1))
                    .collect()
            }
        }
    }
}

/// The native samples one sample of `level` stands for.
fn span(level: Level, native: [usize; 4]) -> f64 {
    native.iter().map(|&n| level.factor.min(n) as f64).product()
}

impl Family for EcnrFamily<'_> {
    type Details = EcnrDetails;

    fn prepare(&mut self, samples: &Samples, common: &Common) -> Result<()> {
        let opts = self.opts;
        if opts.scales == 0 || opts.scales > 16 {
            return Err(Error::InvalidArgument(format!(
                "--scales {} (must be 1 to 16)",
                opts.scales
            )));
        }
        if opts.latent_dim > 1024 || opts.width == 0 || opts.epochs == 0 || opts.batch == 0 {
            return Err(Error::InvalidArgument(
                "--latent-dim must be at most 1024; --width, --epochs and --batch above 0".into(),
            ));
        }
        crate::check_lr("--lr", opts.lr)?;
        let volume = Volume::of(samples)?;
        let native = volume.dims;
        let block = opts.block.unwrap_or_else(|| blocks::default_block(native));
        if block.iter().any(|&b| b == 0 || b > 65536) {
            return Err(Error::InvalidArgument(format!(
                "--block {block:?} (each 1 to 65536)"
            )));
        }
        let levels = pyramid::levels(native, opts.scales);
        let tilings: Vec<Tiling> = levels.iter().map(|&l| Tiling::new(l, block)).collect();
        let width = match opts.size {
            Size::Width(w) => w,
            _ => opts.width,
        };
        let costs = Costs {
            shape: self.shape(width, volume.channels),
            bits: opts.bits,
            sparsity: if opts.prune {
                SPARSITY[SPARSITY.len() - 1]
            } else {
                0.0
            },
        };
        let per_mlp = self.per_mlp(levels.len(), native[3] > 1);
        let (energies, counts) = gt_energies(&volume, &levels, &tilings);
        let candidates: Vec<Candidates> = (0..levels.len())
            .map(|s| Candidates {
                tiling: &tilings[s],
                energy: &energies[s],
                samples: &counts[s],
                weight: span(levels[s], volume.dims),
                per_mlp: per_mlp[s],
            })
            .collect();
        let ranked = candidates
            .iter()
            .map(|c| {
                let mut u = plan::useful(c);
                u.sort_by(|a, b| b.1.total_cmp(&a.1));
                u.into_iter().map(|(b, _)| b).collect()
            })
            .collect();
        let target = common.size.target(samples.raw_f32_bytes())?;
        let mut prepared = Prepared {
            volume,
            levels: levels.clone(),
            tilings: tilings.clone(),
            ranked,
            plans: Vec::new(),
            costs,
            user_sharing: opts.blocks_per_mlp.is_some(),
        };
        prepared.plans = loop {
            if let Some(plans) = fill(&prepared, &candidates, target, samples)? {
                break plans;
            }
            let width = prepared.costs.shape.width;
            if width <= MIN_WIDTH {
                return Err(Error::InvalidArgument(format!(
                    "a target of {} bytes is too small for ECNR's coarsest scale ({} blocks) even with MLPs of width {width}: ask for a lower ratio, larger blocks (--block) or more scales (--scales)",
                    target.unwrap_or(0),
                    tilings[0].len()
                )));
            }
            let narrower = (width * 2 / 3).max(MIN_WIDTH);
            log::info!("the budget does not hold ECNR's coarsest scale at width {width}: planning at width {narrower}");
            prepared.costs.shape.width = narrower;
        };
        drop(candidates);
        self.prepared = Some(prepared);
        Ok(())
    }

    fn size_model<'a>(&'a self, samples: &'a Samples, _: &Common) -> Box<dyn SizeModel + 'a> {
        Box::new(PlannedSize(
            self.prepared.as_ref().expect("prepared first"),
            samples,
        ))
    }

    fn fine_tunes(&self, _: &Common) -> bool {
        false
    }

    fn train(
        &mut self,
        samples: &Samples,
        common: &Common,
        width: usize,
        clock: &Clock,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Vec<VariableQuality>> {
        let p = self.prepared.as_ref().expect("prepared first");
        let training = ScaleTraining {
            shape: self.shape(width, p.volume.channels),
            lr: self.opts.lr,
            epochs: self.opts.epochs,
            batch: self.opts.batch,
            prune: self.opts.prune,
            bits: self.opts.bits,
            seed: common.seed,
            device: common.device,
        };
        let trained = fit_scales(p, &training, clock, progress, samples)?;
        let quality = trained.network_quality.clone();
        self.trained = Some(trained);
        Ok(quality)
    }

    fn quantize(
        &mut self,
        _: &Samples,
        _: &Common,
        _: &Clock,
        _: &mut dyn FnMut(&Progress),
    ) -> Result<Vec<VariableQuality>> {
        // Each scale is quantized before the next fits its residual.
        Ok(self
            .trained
            .as_ref()
            .expect("trained first")
            .stored_quality
            .clone())
    }

    fn weights(&self, _: &Samples, _: &Common) -> Result<(Box<dyn WriteWeights>, String)> {
        let t = self.trained.as_ref().expect("trained first");
        let o = self.opts;
        let description = format!(
            "ecnr {} scales block {:?} latent {} width {} sine layers {} blocks per MLP {:?}, epochs {}, batch {}, lr {}, {}, {}-bit tables, seed {}",
            t.model.scales.len(),
            t.model.block,
            o.latent_dim,
            t.model.scales.first().map_or(0, |s| s.layers[0].weight.shape[1]),
            o.sine_layers,
            self.prepared.as_ref().map(|p| p.plans.iter().map(|p| p.per_mlp).collect::<Vec<_>>()),
            o.epochs,
            o.batch,
            o.lr,
            if o.prune { "pruned" } else { "not pruned" },
            o.bits,
            o.seed
        );
        Ok((Box::new(t.model.clone()), description))
    }

    fn details(self, _: &Common) -> EcnrDetails {
        let t = self.trained.expect("trained first");
        EcnrDetails {
            block: t.model.block,
            latent_dim: self.opts.latent_dim,
            width: t
                .model
                .scales
                .first()
                .map_or(0, |s| s.layers[0].weight.shape[1] as usize),
            sine_layers: self.opts.sine_layers,
            bits: self.opts.bits,
            scales: t.reports,
        }
    }
}

/// Per scale and block, the energy of the residual on the data's own
/// pyramid (as if the coarser scales were fitted exactly), and the values
/// each block holds.
fn gt_energies(
    volume: &Volume,
    levels: &[Level],
    tilings: &[Tiling],
) -> (Vec<Vec<f64>>, Vec<Vec<usize>>) {
    let c = volume.channels;
    let mut energies = Vec::new();
    let mut counts = Vec::new();
    let mut coarser: Option<(Vec<f32>, Level)> = None;
    for (level, tiling) in levels.iter().zip(tilings) {
        let here = pyramid::subsample(volume, *level);
        let residual = match &coarser {
            None => here.clone(),
            Some((values, from)) => {
                let up = pyramid::upsample(values, *from, *level, c);
                here.iter().zip(&up).map(|(a, b)| a - b).collect()
            }
        };
        energies.push(tiling.energies(&residual, c));
        counts.push(tiling.sample_counts().into_iter().map(|n| n * c).collect());
        coarser = Some((here, *level));
    }
    (energies, counts)
}

/// Rounds of planning against the measured bytes of the plan's stand-in.
const FILL_ROUNDS: usize = 6;
/// The narrowest MLPs a plan falls back to when a small budget cannot hold
/// the coarsest scale at the asked width.
const MIN_WIDTH: usize = 8;

/// The plan that fills `target` bytes (every useful block without one):
/// planned with the analytic costs, then re-planned with the budget scaled
/// by what the stand-in's file really takes, keeping the fullest plan that
/// fits; `None` when no plan of the coarsest scale fits.
fn fill(
    p: &Prepared,
    candidates: &[Candidates],
    target: Option<u64>,
    samples: &Samples,
) -> Result<Option<Vec<ScalePlan>>> {
    let Some(target) = target else {
        return Ok(Some(
            plan::plan(candidates, &p.costs, None).expect("no budget always plans"),
        ));
    };
    let goal = crate::size::within(target) as f64;
    let (k0, k) = match p.user_sharing {
        true => (1, 1),
        false => plan::sharing(candidates, &p.costs, goal).unwrap_or((1, 1)),
    };
    let shared: Vec<Candidates> = candidates
        .iter()
        .enumerate()
        .map(|(s, c)| Candidates {
            per_mlp: c.per_mlp * if s == 0 { k0 } else { k },
            ..*c
        })
        .collect();
    let candidates = &shared[..];
    let mut budget = goal;
    let mut best: Option<(Vec<ScalePlan>, u64)> = None;
    for _ in 0..FILL_ROUNDS {
        let Some(plans) = plan::plan(candidates, &p.costs, Some(budget)) else {
            break;
        };
        let bytes = file_bytes(samples, &p.standin(&plans, p.costs.shape.width))?;
        log::debug!(
            "ECNR plan for {budget:.0} bytes: {:?} blocks, {bytes} bytes",
            plans.iter().map(|p| p.blocks).collect::<Vec<_>>()
        );
        if (bytes as f64) <= goal && best.as_ref().is_none_or(|(_, b)| bytes > *b) {
            best = Some((plans, bytes));
        }
        if ((bytes as f64) - goal).abs() < 0.005 * goal {
            break;
        }
        budget *= goal / bytes as f64;
    }
    Ok(best.map(|(p, _)| p))
}

/// The size search's view of the plan: its bytes at a width.
struct PlannedSize<'a>(&'a Prepared, &'a Samples);

impl SizeModel for PlannedSize<'_> {
    fn min_width(&self) -> usize {
        4
    }

    fn parameters(&self, width: usize) -> u64 {
        let shape = MlpShape {
            width,
            ..self.0.costs.shape
        };
        self.0
            .plans
            .iter()
            .map(|p| (p.mlps() * shape.parameters()) as u64)
            .sum()
    }

    fn bytes(&self, width: usize) -> Result<u64> {
        file_bytes(self.1, &self.0.standin(&self.0.plans, width))
    }

    fn describe(&self) -> String {
        format!(
            "ECNR's plan of {:?} blocks",
            self.0.plans.iter().map(|p| p.blocks).collect::<Vec<_>>()
        )
    }
}

/// Fits the scales coarsest first, each on the residual the stored coarser
/// scales leave.
fn fit_scales(
    p: &Prepared,
    training: &ScaleTraining,
    clock: &Clock,
    progress: &mut dyn FnMut(&Progress),
    samples: &Samples,
) -> Result<Trained> {
    let c = p.volume.channels;
    // Time by the samples each scale fits, the coarsest at least a tenth.
    let work: Vec<f64> = p
        .plans
        .iter()
        .zip(&p.tilings)
        .map(|(pl, t)| (pl.blocks * t.volume()) as f64)
        .collect();
    let total: f64 = work.iter().sum::<f64>().max(1.0);
    let mut shares: Vec<f64> = work.iter().map(|w| w / total).collect();
    shares[0] = shares[0].max(0.1);
    let mut stored_prev: Option<(Vec<f32>, Level)> = None;
    let mut trained_prev: Option<(Vec<f32>, Level)> = None;
    let (mut scales, mut reports) = (Vec::new(), Vec::new());
    for (s, (&level, &tiling)) in p.levels.iter().zip(&p.tilings).enumerate() {
        let up = |prev: &Option<(Vec<f32>, Level)>| match prev {
            None => vec![0f32; level.len() * c],
            Some((v, from)) => pyramid::upsample(v, *from, level, c),
        };
        let (base, base_trained) = (up(&stored_prev), up(&trained_prev));
        let here = pyramid::subsample(&p.volume, level);
        let residual: Vec<f32> = here.iter().zip(&base).map(|(a, b)| a - b).collect();
        let share = shares[s] / shares[s..].iter().sum::<f64>();
        let fitted = scale::fit(
            tiling,
            &residual,
            c,
            p.plans[s].blocks,
            p.plans[s].per_mlp,
            &ScaleTraining {
                seed: training.seed + s as u64,
                ..training.clone()
            },
            &clock.share(share),
            progress,
        )?;
        reports.push(ScaleReport {
            factor: level.factor,
            blocks: tiling.len(),
            kept: fitted
                .model
                .assignment
                .iter()
                .filter(|&&a| a != write::EMPTY)
                .count(),
            mlps: fitted.model.mlps,
            steps: fitted.steps,
            sparsity: fitted.sparsity,
            mse: fitted.mse,
        });
        let add = |a: Vec<f32>, b: &[f32]| {
            a.into_iter()
                .zip(b)
                .map(|(x, y)| x + y)
                .collect::<Vec<f32>>()
        };
        stored_prev = Some((add(base, &fitted.stored), level));
        trained_prev = Some((add(base_trained, &fitted.trained), level));
        scales.push(fitted.model);
    }
    let quality_of = |recon: &[f32]| {
        let per_step = recon.len() / p.volume.dims[3].max(1);
        quality::measure(samples, |part| {
            let vals = &recon[part * per_step..(part + 1) * per_step];
            Ok(unscale(samples, vals))
        })
    };
    let stored = stored_prev.expect("at least one scale").0;
    let trained = trained_prev.expect("at least one scale").0;
    Ok(Trained {
        model: EcnrModel {
            sites: p.volume.association,
            block: p.tilings[0].block,
            latent_dim: training.shape.latent_dim,
            scales,
        },
        reports,
        network_quality: quality_of(&trained)?,
        stored_quality: quality_of(&stored)?,
    })
}

/// Scaled values (every variable's components per sample) in the
/// variables' units.
fn unscale(samples: &Samples, values: &[f32]) -> Vec<f64> {
    let comps: Vec<(usize, usize)> = samples
        .variables
        .iter()
        .enumerate()
        .flat_map(|(v, var)| (0..var.components).map(move |c| (v, c)))
        .collect();
    values
        .iter()
        .enumerate()
        .map(|(i, &y)| {
            let (v, c) = comps[i % comps.len()];
            samples.unscale(v, c, y as f64)
        })
        .collect()
}

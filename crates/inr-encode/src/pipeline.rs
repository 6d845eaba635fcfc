//! One encode for every family: the size search, the seed, training,
//! quantization and fine-tuning, the file and the report. A family plugs
//! in its networks, its size model and its weights ([`Family`]).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use tch::Device;

use inr_core::error::Result;
use inr_core::format::WeightEncoding;

use crate::clock::Clock;
use crate::data::Samples;
use crate::export::WriteWeights;
use crate::progress::Progress;
use crate::quality::VariableQuality;
use crate::report::{self, Details, EncodeReport, Finish};
use crate::size::{Size, SizeModel};

/// Share of a time budget that fine-tuning after quantization gets.
pub const FINE_TUNE_SHARE: f64 = 0.1;

/// The settings every family shares.
#[derive(Clone, Debug)]
pub struct Common {
    pub size: Size,
    /// Codebook bits per weight; 0 stores f32 weights.
    pub bits: u8,
    /// Frequency of the first sine layer along the spatial axes.
    pub omega: f64,
    /// Seeds libtorch's generator, which is global to the process.
    pub seed: u64,
    pub device: Device,
    /// Budget of the whole encode.
    pub max_time: Option<Duration>,
    /// Set by Ctrl-C: training ends and the best model so far is written.
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl Common {
    /// How the weights are stored.
    pub fn encoding(&self) -> WeightEncoding {
        match self.bits {
            0 => WeightEncoding::F32,
            bits => WeightEncoding::Codebook {
                bits,
                prune_zeros: false,
            },
        }
    }
}

/// A model family as the pipeline drives it, in the order of the calls.
pub trait Family {
    type Details: Details;

    /// Checks the family's settings and prepares what its size depends on
    /// (MC-INR's clusters).
    fn prepare(&mut self, samples: &Samples, common: &Common) -> Result<()>;

    /// Parameters and file bytes of its networks at a width.
    fn size_model<'a>(&'a self, samples: &'a Samples, common: &Common) -> Box<dyn SizeModel + 'a>;

    /// Whether it fine-tunes after quantization (then training leaves it
    /// [`FINE_TUNE_SHARE`] of the time).
    fn fine_tunes(&self, common: &Common) -> bool;

    /// Trains networks `width` wide within `clock`; returns their quality
    /// at every site (libtorch, f32 weights).
    fn train(
        &mut self,
        samples: &Samples,
        common: &Common,
        width: usize,
        clock: &Clock,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Vec<VariableQuality>>;

    /// Quantizes the trained networks to `common.bits` codebooks and
    /// fine-tunes them within `clock`; returns the stored weights' quality
    /// at every site (libtorch). Called only with codebooks.
    fn quantize(
        &mut self,
        samples: &Samples,
        common: &Common,
        clock: &Clock,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Vec<VariableQuality>>;

    /// The weights the file stores, and how they were made (the file's
    /// `encoder` attribute).
    fn weights(
        &self,
        samples: &Samples,
        common: &Common,
    ) -> Result<(Box<dyn WriteWeights>, String)>;

    /// The family's account of the encode.
    fn details(self, common: &Common) -> Self::Details;
}

/// Encodes `samples` with `family`; `progress` sees every phase.
pub fn encode<F: Family>(
    samples: &Samples,
    common: &Common,
    mut family: F,
    progress: &mut dyn FnMut(&Progress),
) -> Result<EncodeReport<F::Details>> {
    let clock = Clock::new(common.max_time, common.interrupt.clone());
    // Fine-tuning's share is set aside first: set-up and size search come
    // out of the training's time.
    let train_clock = if common.bits > 0 && family.fine_tunes(common) {
        clock.share(1.0 - FINE_TUNE_SHARE)
    } else {
        clock.clone()
    };
    crate::check_omega(common.omega)?;
    family.prepare(samples, common)?;
    let width = common.size.width(
        samples.raw_f32_bytes(),
        family.size_model(samples, common).as_ref(),
    )?;
    log::debug!("width {width}");
    // After the size search, whose stand-in networks draw from the generator.
    tch::manual_seed(common.seed as i64);
    let network_quality = family.train(samples, common, width, &train_clock, progress)?;
    let encoder_quality = if common.bits > 0 {
        family.quantize(samples, common, &clock, progress)?
    } else {
        network_quality.clone()
    };
    let (weights, description) = family.weights(samples, common)?;
    let finish = Finish {
        samples,
        weights: weights.as_ref(),
        encoding: common.encoding(),
        description,
        network_quality,
        encoder_quality,
        device: common.device,
        start: clock.start,
    };
    report::finish(finish, family.details(common))
}

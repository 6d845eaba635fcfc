//! A trained NeRVI network as an `.inr` file (an `images` domain, the
//! color and mask variables, the composite), and its quality: PSNR and SSIM
//! of the composite against the rendered images, for the libtorch network
//! and for the written file through the pure-Rust decoder.

use std::path::Path;
use std::time::Duration;

use tch::{Device, Kind, Tensor};

use inr_core::decode::{DecodeOptions, Decoder};
use inr_core::error::Result;
use inr_core::format::section::Compression;
use inr_core::format::{
    Association, Domain, FileBuilder, Metadata, TimeAxis, Variable, WeightEncoding,
};
use inr_core::model::nervi::{CompositeMeta, Nervi, NerviParts};

use super::data::ImageSet;
use super::net::NerviNet;
use super::shape::NerviShape;
use super::ssim::ssim;
use super::NerviOptions;
use crate::tch_error;
use crate::train::TrainReport;

/// Images per batch when measuring.
const MEASURE_BATCH: i64 = 8;

/// PSNR (8-bit peak, over all pixels and channels) and mean SSIM of the
/// composites.
#[derive(Clone, Copy, Debug)]
pub struct ImageQuality {
    pub psnr: f64,
    pub ssim: f64,
    /// PSNR of the worst image.
    pub worst_psnr: f64,
}

/// What a NeRVI encode produced.
#[derive(Debug)]
pub struct NerviReport {
    pub bytes: Vec<u8>,
    /// The collection at 4 bytes per pixel (RGB and mask).
    pub raw_bytes: u64,
    /// The database's files on disk (its PNGs and index).
    pub database_bytes: u64,
    pub images: usize,
    pub size: [usize; 2],
    pub shape: NerviShape,
    pub train: TrainReport,
    pub bits: u8,
    /// The trained f32 network (libtorch).
    pub network: ImageQuality,
    /// The file, decoded by the pure-Rust decoder.
    pub file: ImageQuality,
    /// The corrections of an error-bounded file.
    pub corrections: Option<super::bound::ImageCorrections>,
    pub elapsed: Duration,
}

/// The file's bytes.
pub fn write(set: &ImageSet, model: Nervi, opts: &NerviOptions) -> Result<Vec<u8>> {
    let mut b = FileBuilder::new();
    let weights = b.new_section("weights", Compression::Zstd);
    let encoding = match opts.bits {
        0 => WeightEncoding::F32,
        bits => WeightEncoding::Codebook {
            bits,
            prune_zeros: false,
        },
    };
    let parts = NerviParts {
        model,
        composite: Some(CompositeMeta {
            color: "image".into(),
            mask: "mask".into(),
            background: opts.background.to_vec(),
        }),
    };
    let model = parts.write(&mut b, weights, encoding)?;
    let views_section = b.new_section("views", Compression::Zstd);
    let views = b.push_f64_array(views_section, &set.views.concat());
    let variable = |name: &str, components: usize| Variable {
        name: name.into(),
        components: components as u32,
        association: Association::Point,
        range: vec![[0.0, 1.0]; components],
        units: None,
    };
    let metadata = Metadata {
        generator: format!("inr {} (encoder)", env!("CARGO_PKG_VERSION")),
        domain: Domain::Images {
            width: set.width as u64,
            height: set.height as u64,
            views,
            parameters: set.parameters.clone(),
        },
        time: (!set.times.is_empty()).then(|| TimeAxis {
            values: set.times.clone(),
        }),
        variables: vec![variable("image", 3), variable("mask", 1)],
        model,
        sections: Vec::new(),
        attributes: [(
            "encoder".to_string(),
            format!("NeRVI, {} bits, seed {}", opts.bits, opts.seed),
        )]
        .into(),
        corrections: None,
    };
    b.to_bytes(metadata)
}

/// Bytes of the files in `dir` (recursively; 0 where unreadable).
pub fn database_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => database_bytes(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

/// The rendered composites of images `start..start + len`, `[B, 3, H, W]`
/// in [0, 1] on the CPU, rounded to 8 bits as a picture is.
fn reference(set: &ImageSet, start: i64, len: i64, background: [f64; 3]) -> Tensor {
    let index = Tensor::arange_start(start, start + len, (Kind::Int64, set.inputs.device()));
    let (color, _) = set.targets(&index, background);
    (color * 255.0).round().to_device(Device::Cpu) / 255.0
}

/// Accumulated squared errors and SSIMs, image by image.
#[derive(Default)]
struct Tally {
    sq: f64,
    values: f64,
    ssim: f64,
    images: f64,
    worst: f64,
}

impl Tally {
    fn add(&mut self, got: &Tensor, want: &Tensor) -> Result<()> {
        let d = (got - want).square();
        let per_image =
            Vec::<f64>::try_from(d.mean_dim([1i64, 2, 3].as_slice(), false, Kind::Double))
                .map_err(tch_error)?;
        self.sq += d.sum(Kind::Double).double_value(&[]);
        self.values += d.numel() as f64;
        for mse in per_image {
            self.worst = self.worst.max(mse);
        }
        self.ssim += ssim(got, want).sum(Kind::Double).double_value(&[]);
        self.images += got.size()[0] as f64;
        Ok(())
    }

    fn quality(&self) -> ImageQuality {
        let psnr = |mse: f64| 10.0 * (1.0 / mse.max(1e-20)).log10();
        ImageQuality {
            psnr: psnr(self.sq / self.values.max(1.0)),
            ssim: self.ssim / self.images.max(1.0),
            worst_psnr: psnr(self.worst),
        }
    }
}

/// The libtorch network's composites against the rendered ones.
pub fn network_quality(
    net: &NerviNet,
    set: &ImageSet,
    background: [f64; 3],
) -> Result<ImageQuality> {
    let _guard = tch::no_grad_guard();
    let mut tally = Tally::default();
    let n = set.len() as i64;
    let bg = Tensor::from_slice(&background)
        .to_kind(Kind::Float)
        .view([1, 3, 1, 1]);
    for start in (0..n).step_by(MEASURE_BATCH as usize) {
        let len = MEASURE_BATCH.min(n - start);
        let x = set.inputs.narrow(0, start, len);
        let out = ((net.forward(&x) + 1.0) * 0.5)
            .clamp(0.0, 1.0)
            .to_device(Device::Cpu);
        let (color, mask) = (out.narrow(1, 0, 3), out.narrow(1, 3, 1));
        let composite: Tensor = (&mask * color + (1.0 - &mask) * &bg) * 255.0;
        tally.add(
            &(composite.round() / 255.0),
            &reference(set, start, len, background),
        )?;
    }
    Ok(tally.quality())
}

/// The written file's composites (pure-Rust decoder) against the rendered
/// ones, at every stored time and view.
pub fn file_quality(bytes: &[u8], set: &ImageSet, background: [f64; 3]) -> Result<ImageQuality> {
    let decoder = Decoder::from_bytes(bytes.to_vec())?;
    let steps = set.times.len().max(1);
    let (w, h) = (set.width as i64, set.height as i64);
    let mut tally = Tally::default();
    let options = DecodeOptions::default();
    for s in 0..steps {
        let time = set.times.get(s).copied();
        for (v, view) in set.views.iter().enumerate() {
            let rgba = decoder.decode_rgba(time, view, &options)?;
            let got = Tensor::from_slice(&rgba)
                .view([1, h, w, 4])
                .permute([0, 3, 1, 2])
                .narrow(1, 0, 3)
                .to_kind(Kind::Float)
                / 255.0;
            let i = (s * set.views.len() + v) as i64;
            tally.add(&got, &reference(set, i, 1, background))?;
        }
    }
    Ok(tally.quality())
}

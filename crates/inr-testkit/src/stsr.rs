//! Synthetic STSR-INR models: random SIREN-initialized synthesis and
//! modulator networks, latent vectors and stacked heads, written as
//! complete `.inr` files (docs/format.md, section 10.5).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use inr_core::error::Result;
use inr_core::format::section::Compression;
use inr_core::format::{Association, FileBuilder, Metadata, TimeAxis, Variable, WeightEncoding};
use inr_core::model::stacked::StackedLayer;
use inr_core::model::stsr::StsrParts;
use inr_core::model::{Dense, Layer};

use crate::ecnr::grid_domain;

/// A synthetic STSR-INR file.
#[derive(Clone, Debug)]
pub struct StsrSpec {
    /// Points per axis of the domain.
    pub dims: [u64; 3],
    pub origin: [f64; 3],
    pub spacing: [f64; 3],
    /// A rectilinear domain (random increasing coordinates) instead of an
    /// image.
    pub rectilinear: bool,
    pub sites: Association,
    pub times: Option<Vec<f64>>,
    /// (name, ranges per component).
    pub variables: Vec<(String, Vec<[f64; 2]>)>,
    pub heads: [u64; 3],
    /// Stride of the head grid in native samples (its samples follow).
    pub head_stride: [u64; 3],
    pub latent_dim: usize,
    pub width: usize,
    /// Residual blocks after the first sine layer, in each network.
    pub residual_blocks: usize,
    /// Sine layers of each head before its linear layer.
    pub head_sines: usize,
    pub w0: f32,
    pub encoding: WeightEncoding,
    pub seed: u64,
}

impl StsrSpec {
    /// A 17 x 10 x 7 image with 4 time steps, heads 3 x 2 x 1 over a head
    /// grid of stride 2 x 1 x 2 (9 x 10 x 4 samples: super-resolution), latent 5,
    /// width 12, 2 residual blocks, one head sine layer, three variables
    /// (1, 2 and 1 components), f32 tensors.
    pub fn small(seed: u64) -> StsrSpec {
        StsrSpec {
            dims: [17, 10, 7],
            origin: [-1.0, 0.5, 2.0],
            spacing: [0.25, 0.5, 0.125],
            rectilinear: false,
            sites: Association::Point,
            times: Some(vec![0.0, 0.5, 1.5, 4.0]),
            variables: vec![
                ("temperature".into(), vec![[250.0, 350.0]]),
                ("wind".into(), vec![[-10.0, 10.0], [-2.0, 6.0]]),
                ("pressure".into(), vec![[1e5, 1.1e5]]),
            ],
            heads: [3, 2, 1],
            head_stride: [2, 1, 2],
            latent_dim: 5,
            width: 12,
            residual_blocks: 2,
            head_sines: 1,
            w0: 5.0,
            encoding: WeightEncoding::F32,
            seed,
        }
    }

    /// Native samples per axis.
    pub fn native(&self) -> [u64; 3] {
        self.dims.map(|d| match self.sites {
            Association::Point => d,
            Association::Cell => d.saturating_sub(1).max(1),
        })
    }

    /// The head grid: every `head_stride`-th native sample, rounded down to
    /// a multiple of the heads.
    pub fn head_grid(&self) -> [u64; 3] {
        let n = self.native();
        std::array::from_fn(|a| {
            let m = (n[a] - 1) / self.head_stride[a] + 1;
            m / self.heads[a] * self.heads[a]
        })
    }

    fn outputs(&self) -> usize {
        self.variables.iter().map(|v| v.1.len()).max().unwrap_or(1)
    }

    /// The model's parts with random weights.
    pub fn parts(&self) -> StsrParts {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let inputs = if self.times.is_some() { 4 } else { 3 };
        let syn = self.network(&mut rng, inputs);
        let modu = self.network(&mut rng, self.latent_dim);
        let heads: u64 = self.heads.iter().product();
        let mut head_layers: Vec<StackedLayer> = (0..self.head_sines)
            .map(|_| self.stacked(&mut rng, heads as usize, self.width, Some(self.w0)))
            .collect();
        head_layers.push(self.stacked(&mut rng, heads as usize, self.outputs(), None));
        let time = self.times.as_ref().map(|t| {
            let (lo, hi) = (t[0], t[t.len() - 1]);
            let scale = if hi > lo { 2.0 / (hi - lo) } else { 1.0 };
            (scale, -1.0 - lo * scale)
        });
        let latents = (0..self.variables.len() * self.latent_dim)
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        StsrParts {
            sites: self.sites,
            time,
            heads: self.heads,
            head_grid: self.head_grid(),
            head_stride: self.head_stride,
            latent_dim: self.latent_dim,
            latents,
            stages: syn.into_iter().zip(modu).collect(),
            outputs: self.outputs(),
            head_layers,
        }
    }

    /// A sine layer from `inputs`, then the residual blocks.
    fn network(&self, rng: &mut ChaCha8Rng, inputs: usize) -> Vec<Layer> {
        let w = self.width;
        let mut layers = vec![Layer::Sine {
            w0: self.w0,
            dense: dense(rng, inputs, w, 1.0 / inputs as f32),
        }];
        let limit = (6.0 / w as f32).sqrt() / self.w0;
        layers.extend((0..self.residual_blocks).map(|_| Layer::ResidualSine {
            w0: [self.w0, self.w0],
            first: dense(rng, w, w, limit),
            second: dense(rng, w, w, limit),
        }));
        layers
    }

    /// `m` stacked layers of `out` outputs from the width; a sine layer with
    /// `w0`, else the final linear one.
    fn stacked(&self, rng: &mut ChaCha8Rng, m: usize, out: usize, w0: Option<f32>) -> StackedLayer {
        let inp = self.width;
        let limit = match w0 {
            Some(w0) => (6.0 / inp as f32).sqrt() / w0,
            None => (6.0 / inp as f32).sqrt(),
        };
        let mut values =
            |n: usize| -> Vec<f32> { (0..n).map(|_| rng.gen_range(-limit..limit)).collect() };
        StackedLayer {
            w0,
            mlps: m,
            out_features: out,
            in_features: inp,
            weight: values(m * out * inp),
            bias: values(m * out),
        }
    }

    /// The file's bytes.
    pub fn build(&self) -> Result<Vec<u8>> {
        let mut builder = FileBuilder::new();
        let parts = self.parts();
        let section = builder.new_section("weights", Compression::Zstd);
        let model = parts.write(&mut builder, section, self.encoding)?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x5eed);
        let (d, o, s) = (self.dims, self.origin, self.spacing);
        let domain = grid_domain(&mut builder, &mut rng, d, o, s, self.rectilinear);
        let metadata = Metadata {
            generator: format!("inr {} (synthetic STSR-INR)", env!("CARGO_PKG_VERSION")),
            domain,
            time: self.times.clone().map(|values| TimeAxis { values }),
            variables: (self.variables.iter())
                .map(|(name, range)| Variable {
                    name: name.clone(),
                    components: range.len() as u32,
                    association: self.sites,
                    range: range.clone(),
                    units: None,
                })
                .collect(),
            model,
            sections: Vec::new(),
            attributes: Default::default(),
            corrections: None,
        };
        builder.to_bytes(metadata)
    }
}

/// A random `[out, in]` layer, values in `[-limit, limit]`.
pub(crate) fn dense(rng: &mut ChaCha8Rng, inp: usize, out: usize, limit: f32) -> Dense {
    Dense {
        out_features: out,
        in_features: inp,
        weight: (0..out * inp)
            .map(|_| rng.gen_range(-limit..limit))
            .collect(),
        bias: (0..out).map(|_| rng.gen_range(-limit..limit)).collect(),
    }
}

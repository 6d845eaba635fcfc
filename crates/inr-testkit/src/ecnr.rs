//! Synthetic ECNR models: random sine MLPs, latent codes and block
//! assignments (some blocks empty) on several scales, written as complete
//! `.inr` files (docs/format.md, section 10.4) with f32 tensors or with the
//! reference encoder's conventions: per scale one shared table for the
//! weights (pruned where zero), one for the biases, one for the latents.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use inr_core::error::Result;
use inr_core::format::section::Compression;
use inr_core::format::tensor::{Location, TensorRef};
use inr_core::format::{Association, DType, Domain, FileBuilder, Metadata, TimeAxis, Variable};
use inr_core::model::ecnr::{EcnrMeta, ScaleMeta, StackedLayerMeta, EMPTY};
use inr_core::quantize::kmeans_1d;

/// How the tensors are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EcnrEncoding {
    F32,
    /// Per scale, shared `2^bits`-entry tables; with `prune`, the zero
    /// weights of every layer but the last are masked out.
    Shared {
        bits: u8,
        prune: bool,
    },
}

/// A synthetic ECNR file.
#[derive(Clone, Debug)]
pub struct EcnrSpec {
    /// Points per axis of the domain.
    pub dims: [u64; 3],
    pub origin: [f64; 3],
    pub spacing: [f64; 3],
    /// A rectilinear domain (random increasing coordinates) instead of an
    /// image.
    pub rectilinear: bool,
    pub sites: Association,
    pub times: Option<Vec<f64>>,
    /// (name, ranges per component); every variable has the sites'
    /// association.
    pub variables: Vec<(String, Vec<[f64; 2]>)>,
    pub block: [u64; 3],
    pub latent_dim: usize,
    /// Scale factors, coarsest first, ending with 1.
    pub factors: Vec<u64>,
    pub mlps: usize,
    pub width: usize,
    pub sine_layers: usize,
    /// Share of the blocks left empty.
    pub empty: f64,
    pub encoding: EcnrEncoding,
    pub seed: u64,
}

impl EcnrSpec {
    /// Three scales (factors 4, 2, 1) of 4x3x2 blocks over a 21 x 14 x 9
    /// image with 5 time steps (partial edge blocks everywhere), latent 3,
    /// 3 MLPs of width 12 per scale, a fifth of the blocks empty, two
    /// variables (1 and 2 components), f32 tensors.
    pub fn small(seed: u64) -> EcnrSpec {
        EcnrSpec {
            dims: [21, 14, 9],
            origin: [-1.0, 0.5, 2.0],
            spacing: [0.25, 0.5, 0.125],
            rectilinear: false,
            sites: Association::Point,
            times: Some(vec![0.0, 0.5, 1.5, 2.0, 4.0]),
            variables: vec![
                ("temperature".into(), vec![[250.0, 350.0]]),
                ("wind".into(), vec![[-10.0, 10.0], [-2.0, 6.0]]),
            ],
            block: [4, 3, 2],
            latent_dim: 3,
            factors: vec![4, 2, 1],
            mlps: 3,
            width: 12,
            sine_layers: 2,
            empty: 0.2,
            encoding: EcnrEncoding::F32,
            seed,
        }
    }

    fn outputs(&self) -> usize {
        self.variables.iter().map(|v| v.1.len()).sum()
    }

    /// Native samples along x, y, z, t.
    fn native(&self) -> [u64; 4] {
        let n = |d: u64| match self.sites {
            Association::Point => d,
            Association::Cell => d.saturating_sub(1).max(1),
        };
        let t = self.times.as_ref().map_or(1, Vec::len) as u64;
        [n(self.dims[0]), n(self.dims[1]), n(self.dims[2]), t]
    }

    /// The file's bytes.
    pub fn build(&self) -> Result<Vec<u8>> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut builder = FileBuilder::new();
        let scales = self
            .factors
            .iter()
            .enumerate()
            .map(|(k, &f)| self.write_scale(&mut builder, k, f, &mut rng))
            .collect::<Result<Vec<_>>>()?;
        let model = EcnrMeta {
            sites: self.sites,
            block: self.block,
            latent_dim: self.latent_dim as u32,
            scales,
            cnn: None,
        };
        let (d, o, sp) = (self.dims, self.origin, self.spacing);
        let domain = grid_domain(&mut builder, &mut rng, d, o, sp, self.rectilinear);
        let metadata = Metadata {
            generator: format!("inr {} (synthetic ECNR)", env!("CARGO_PKG_VERSION")),
            domain,
            time: self.times.clone().map(|values| TimeAxis { values }),
            variables: self
                .variables
                .iter()
                .map(|(name, range)| Variable {
                    name: name.clone(),
                    components: range.len() as u32,
                    association: self.sites,
                    range: range.clone(),
                    units: None,
                })
                .collect(),
            model: model.to_value()?,
            sections: Vec::new(),
            attributes: Default::default(),
            corrections: None,
        };
        builder.to_bytes(metadata)
    }

    /// Scale `k` of factor `f` in its own section: assignment, latents and
    /// stacked layers.
    fn write_scale(
        &self,
        builder: &mut FileBuilder,
        k: usize,
        f: u64,
        rng: &mut ChaCha8Rng,
    ) -> Result<ScaleMeta> {
        let section = builder.new_section(&format!("scale {}", k + 1), Compression::Zstd);
        let dims = self.native().map(|n| n.div_ceil(f));
        let per_sample: u64 = (0..3).map(|a| dims[a].div_ceil(self.block[a])).product();
        let assignment: Vec<u32> = (0..per_sample * dims[3])
            .map(|_| match rng.gen_bool(self.empty) {
                true => EMPTY,
                false => rng.gen_range(0..self.mlps as u32),
            })
            .collect();
        let bytes: Vec<u8> = assignment.iter().flat_map(|v| v.to_le_bytes()).collect();
        let assignment_ref = builder.push_array(section, &bytes, assignment.len(), DType::U32);
        // Per time sample: its non-empty blocks and their codes.
        let filled: Vec<usize> = assignment
            .chunks(per_sample as usize)
            .map(|s| s.iter().filter(|&&q| q != EMPTY).count())
            .collect();
        let latents: Vec<Vec<f32>> = filled
            .iter()
            .map(|&e| {
                (0..e * self.latent_dim)
                    .map(|_| rng.gen_range(-1.0..1.0))
                    .collect()
            })
            .collect();
        let layers = self.layers(rng, 0.5f32.powi((self.factors.len() - 1 - k) as i32));
        let mut store = Store::new(builder, section, self.encoding, &layers, &latents);
        let latent_refs = latents
            .iter()
            .zip(&filled)
            .map(|(l, &e)| store.latent(l, &[e as u64, self.latent_dim as u64]))
            .collect::<Result<Vec<_>>>()?;
        let last = layers.len() - 1;
        let layer_metas = layers
            .iter()
            .enumerate()
            .map(|(i, (w0, w, b, shape))| {
                let weight = store.weight(w, shape, i != last)?;
                let bias = store.bias(b, &shape[..2])?;
                Ok(match w0 {
                    Some(w0) => StackedLayerMeta::Sine {
                        w0: *w0 as f64,
                        weight,
                        bias,
                    },
                    None => StackedLayerMeta::Linear { weight, bias },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ScaleMeta {
            factor: f,
            dims,
            assignment: assignment_ref,
            mlps: self.mlps as u32,
            latents: latent_refs,
            layers: layer_metas,
        })
    }

    /// Random SIREN-initialized stacked layers `(w0, weight, bias, [m, out,
    /// in])`, a quarter of the hidden weights exactly zero (for pruning),
    /// the outputs scaled by `gain` (finer scales hold smaller residuals).
    fn layers(&self, rng: &mut ChaCha8Rng, gain: f32) -> Vec<StackedLayer> {
        let w0 = 30.0f32;
        let m = self.mlps;
        let mut widths = vec![3 + self.latent_dim];
        widths.extend(std::iter::repeat_n(self.width, self.sine_layers));
        widths.push(self.outputs());
        (0..widths.len() - 1)
            .map(|i| {
                let (inp, out) = (widths[i], widths[i + 1]);
                let last = i + 2 == widths.len();
                let limit = match (i, last) {
                    (0, _) => 1.0 / inp as f32,
                    (_, false) => (6.0 / inp as f32).sqrt() / w0,
                    (_, true) => gain * (6.0 / inp as f32).sqrt(),
                };
                let weight = (0..m * out * inp)
                    .map(|_| match !last && rng.gen_bool(0.25) {
                        true => 0.0,
                        false => rng.gen_range(-limit..limit),
                    })
                    .collect();
                let bias = (0..m * out).map(|_| rng.gen_range(-limit..limit)).collect();
                let shape = [m as u64, out as u64, inp as u64];
                ((!last).then_some(w0), weight, bias, shape)
            })
            .collect()
    }
}

/// A stacked layer being written: `(w0, weight, bias, [m, out, in])`.
type StackedLayer = (Option<f32>, Vec<f32>, Vec<f32>, [u64; 3]);

/// Writes a scale's tensors in the spec's encoding.
struct Store<'a> {
    builder: &'a mut FileBuilder,
    section: u32,
    encoding: EcnrEncoding,
    /// Shared tables (weights, biases, latents) and where they are.
    tables: Option<[(Location, Vec<f32>); 3]>,
}

impl<'a> Store<'a> {
    fn new(
        builder: &'a mut FileBuilder,
        section: u32,
        encoding: EcnrEncoding,
        layers: &[StackedLayer],
        latents: &[Vec<f32>],
    ) -> Store<'a> {
        let tables = match encoding {
            EcnrEncoding::F32 => None,
            EcnrEncoding::Shared { bits, prune } => {
                let weights: Vec<f32> = layers
                    .iter()
                    .flat_map(|l| l.1.iter().copied())
                    .filter(|&w| !(prune && w == 0.0))
                    .collect();
                let biases: Vec<f32> = layers.iter().flat_map(|l| l.2.iter().copied()).collect();
                let codes: Vec<f32> = latents.iter().flatten().copied().collect();
                Some([weights, biases, codes].map(|v| {
                    let table = kmeans_1d(&v, 1 << bits).codebook;
                    (builder.push_table(section, &table), table)
                }))
            }
        };
        Store {
            builder,
            section,
            encoding,
            tables,
        }
    }

    /// Indices into shared table `t` (pruned with a mask when asked), or f32.
    fn push(&mut self, values: &[f32], shape: &[u64], t: usize, prune: bool) -> Result<TensorRef> {
        let (section, b) = (self.section, &mut *self.builder);
        match (&self.tables, self.encoding) {
            (Some(tables), EcnrEncoding::Shared { bits, .. }) => {
                let table = (tables[t].0, &tables[t].1[..]);
                match prune {
                    true => b.push_indexed_pruned(section, values, shape, bits, table),
                    false => b.push_indexed(section, values, shape, bits, table),
                }
            }
            _ => b.push_tensor(
                section,
                values,
                shape,
                inr_core::format::WeightEncoding::F32,
            ),
        }
    }

    /// A layer's weight; `hidden` ones (not the last layer's) are pruned.
    fn weight(&mut self, values: &[f32], shape: &[u64], hidden: bool) -> Result<TensorRef> {
        let prune = hidden && matches!(self.encoding, EcnrEncoding::Shared { prune: true, .. });
        self.push(values, shape, 0, prune)
    }

    fn bias(&mut self, values: &[f32], shape: &[u64]) -> Result<TensorRef> {
        self.push(values, shape, 1, false)
    }

    fn latent(&mut self, values: &[f32], shape: &[u64]) -> Result<TensorRef> {
        self.push(values, shape, 2, false)
    }
}

/// An image domain, or a rectilinear one with random increasing
/// coordinates from `origin` in steps of 0.5 to 1.5 `spacing`.
pub(crate) fn grid_domain(
    builder: &mut FileBuilder,
    rng: &mut ChaCha8Rng,
    dims: [u64; 3],
    origin: [f64; 3],
    spacing: [f64; 3],
    rectilinear: bool,
) -> Domain {
    if !rectilinear {
        return Domain::Image {
            dims,
            origin,
            spacing,
        };
    }
    let section = builder.new_section("coordinates", Compression::Zstd);
    let [x, y, z] = std::array::from_fn(|a| {
        let mut c = origin[a];
        let coords: Vec<f64> = (0..dims[a])
            .map(|_| {
                let here = c;
                c += spacing[a] * rng.gen_range(0.5..1.5);
                here
            })
            .collect();
        builder.push_f64_array(section, &coords)
    });
    Domain::Rectilinear { dims, x, y, z }
}

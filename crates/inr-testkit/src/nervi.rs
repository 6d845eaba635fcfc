//! Synthetic NeRVI models: random SIREN-initialized MLPs and convolution
//! stacks, written with an `images` domain as complete `.inr` files
//! (docs/format.md, sections 8.4 and 10.6).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use inr_core::error::Result;
use inr_core::format::section::Compression;
use inr_core::format::{
    Association, Domain, FileBuilder, Metadata, TimeAxis, Variable, WeightEncoding,
};
use inr_core::kernels::conv::Conv;
use inr_core::model::nervi::{
    CompositeMeta, ConvLayer, Fourier, MlpLayer, Nervi, NerviParts, Upscale,
};

use crate::stsr::dense;

/// A synthetic NeRVI file.
#[derive(Clone, Debug)]
pub struct NerviSpec {
    pub parameters: Vec<String>,
    /// The stored views, one value per parameter each.
    pub views: Vec<Vec<f64>>,
    pub times: Option<Vec<f64>>,
    /// Fourier levels (base 2); 0: no encoding.
    pub levels: usize,
    /// Widths of the MLP's residual blocks (projected where the width changes).
    pub mlp: Vec<usize>,
    /// `[C0, H0, W0]`.
    pub reshape: [usize; 3],
    /// `(factor, channels after the shuffle)` per upscale block.
    pub upscale: Vec<(usize, usize)>,
    pub kernel: usize,
    pub head_kernel: usize,
    pub tanh: bool,
    /// (name, ranges per component); the first is the color, the second the mask.
    pub variables: Vec<(String, Vec<[f64; 2]>)>,
    pub composite: bool,
    pub w0: f32,
    pub encoding: WeightEncoding,
    pub seed: u64,
}

impl NerviSpec {
    /// 24 x 16 images over (theta, phi) with 3 time steps: encoding of 2
    /// levels, MLP 10-24 wide, a 6 x 2 x 3 map, upscale blocks x2 and x4,
    /// 3 x 3 kernels, tanh output, an RGB image and a mask, f32 tensors.
    pub fn small(seed: u64) -> NerviSpec {
        NerviSpec {
            parameters: vec!["theta".into(), "phi".into()],
            views: vec![
                vec![0.0, -30.0],
                vec![90.0, -30.0],
                vec![180.0, 0.0],
                vec![270.0, 30.0],
                vec![45.0, 60.0],
            ],
            times: Some(vec![0.0, 1.0, 3.0]),
            levels: 2,
            mlp: vec![10, 36],
            reshape: [6, 2, 3],
            upscale: vec![(2, 8), (4, 5)],
            kernel: 3,
            head_kernel: 3,
            tanh: true,
            variables: vec![
                ("image".into(), vec![[0.0, 1.0]; 3]),
                ("mask".into(), vec![[0.0, 1.0]]),
            ],
            composite: true,
            w0: 3.0,
            encoding: WeightEncoding::F32,
            seed,
        }
    }

    /// Image width and height.
    pub fn size(&self) -> (usize, usize) {
        let r: usize = self.upscale.iter().map(|u| u.0).product();
        (self.reshape[2] * r, self.reshape[1] * r)
    }

    /// Per input `c = (t, p..)`, its [min, max] over the stored values.
    fn input_bounds(&self) -> Vec<[f64; 2]> {
        let mut b: Vec<[f64; 2]> = Vec::new();
        if let Some(t) = &self.times {
            b.push([t[0], t[t.len() - 1]]);
        }
        for p in 0..self.parameters.len() {
            let col = self.views.iter().map(|v| v[p]);
            b.push([
                col.clone().fold(f64::INFINITY, f64::min),
                col.fold(f64::NEG_INFINITY, f64::max),
            ]);
        }
        b
    }

    /// The model with random weights.
    pub fn model(&self) -> Nervi {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        // To [-0.5, 0.5], as inr's encoder maps parameters that are not
        // periodic: the encoding's lowest frequency has period 2, so the ends
        // of [-1, 1] would get the same features.
        let (scale, shift) = inr_core::model::normalization::bounding_box(&self.input_bounds());
        let input_scale: Vec<f64> = scale.iter().map(|s| 0.5 * s).collect();
        let input_shift: Vec<f64> = shift.iter().map(|s| 0.5 * s).collect();
        let inputs = input_scale.len();
        let encoded = if self.levels == 0 {
            inputs
        } else {
            inputs * 2 * self.levels
        };
        let mut width = encoded;
        let mut mlp = Vec::new();
        for &out in &self.mlp {
            let limit = (6.0 / width.max(out) as f32).sqrt() / self.w0;
            mlp.push(MlpLayer::Residual {
                w0: [self.w0, self.w0],
                first: dense(&mut rng, width, out, limit),
                second: dense(&mut rng, out, out, limit),
                shortcut: (out != width).then(|| dense(&mut rng, width, out, limit)),
            });
            width = out;
        }
        let [c0, h0, w0] = self.reshape;
        mlp.push(MlpLayer::Sine {
            w0: self.w0,
            dense: dense(&mut rng, width, c0 * h0 * w0, 1.0 / width as f32),
        });
        let mut c = c0;
        let upscale = (self.upscale.iter())
            .map(|&(r, out)| {
                let conv = conv(&mut rng, c, out * r * r, self.kernel);
                c = out;
                Upscale { factor: r, conv }
            })
            .collect();
        let outputs = self.variables.iter().map(|v| v.1.len()).sum();
        Nervi {
            inputs,
            input_scale,
            input_shift,
            encoding: (self.levels > 0).then_some(Fourier {
                base: 2.0,
                levels: self.levels,
                include_input: false,
            }),
            mlp,
            reshape: self.reshape,
            upscale,
            head: conv(&mut rng, c, outputs, self.head_kernel),
            tanh: self.tanh,
            composite: None,
        }
    }

    /// The file's bytes.
    pub fn build(&self) -> Result<Vec<u8>> {
        let mut builder = FileBuilder::new();
        let section = builder.new_section("weights", Compression::Zstd);
        let parts = NerviParts {
            model: self.model(),
            composite: self.composite.then(|| CompositeMeta {
                color: self.variables[0].0.clone(),
                mask: self.variables[1].0.clone(),
                background: vec![1.0; self.variables[0].1.len()],
            }),
        };
        let model = parts.write(&mut builder, section, self.encoding)?;
        let views_section = builder.new_section("views", Compression::None);
        let flat: Vec<f64> = self.views.concat();
        let views = builder.push_f64_array(views_section, &flat);
        let (width, height) = self.size();
        let metadata = Metadata {
            generator: format!("inr {} (synthetic NeRVI)", env!("CARGO_PKG_VERSION")),
            domain: Domain::Images {
                width: width as u64,
                height: height as u64,
                views,
                parameters: self.parameters.clone(),
            },
            time: self.times.clone().map(|values| TimeAxis { values }),
            variables: (self.variables.iter())
                .map(|(name, range)| Variable {
                    name: name.clone(),
                    components: range.len() as u32,
                    association: Association::Point,
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

/// A random `[cout, cin, k, k]` convolution, PyTorch's default scale.
fn conv(rng: &mut ChaCha8Rng, cin: usize, cout: usize, k: usize) -> ConvLayer {
    let limit = 1.0 / ((cin * k * k) as f32).sqrt();
    let mut values =
        |n: usize| -> Vec<f32> { (0..n).map(|_| rng.gen_range(-limit..limit)).collect() };
    ConvLayer {
        shape: Conv { cin, cout, k },
        weight: values(cout * cin * k * k),
        bias: values(cout),
    }
}

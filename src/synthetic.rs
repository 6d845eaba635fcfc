//! Synthetic models: residual SIRENs with SIREN initialization and random
//! weights, wrapped in complete `.inr` files. Tests, benchmarks and the demo use
//! them where a trained model is not needed (the decoder's cost and
//! correctness do not depend on what the weights learned).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::Result;
use crate::format::section::Compression;
use crate::format::{
    Association, Domain, FileBuilder, Metadata, TimeAxis, Variable, WeightEncoding,
};
use crate::model::{Dense, Layer, ResidualSiren};

/// Shape of a synthetic network.
#[derive(Clone, Copy, Debug)]
pub struct SirenShape {
    /// 3 (x, y, z) or 4 (x, y, z, t).
    pub inputs: usize,
    pub width: usize,
    pub blocks: usize,
    pub outputs: usize,
    /// Frequency of the first layer (hidden layers use 30, as SIREN does).
    pub first_w0: f32,
}

/// A random residual SIREN; input normalization maps `bounds` (per input
/// [lo, hi]) to [-1, 1].
pub fn residual_siren(shape: SirenShape, bounds: &[[f64; 2]], seed: u64) -> ResidualSiren {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let w0 = 30.0f32;
    // SIREN initialization: first layer U(-1/n, 1/n), later layers
    // U(-sqrt(6/n)/w0, sqrt(6/n)/w0), so pre-activations stay O(1).
    let mut dense = |out: usize, inp: usize, limit: f32| Dense {
        out_features: out,
        in_features: inp,
        weight: (0..out * inp)
            .map(|_| rng.gen_range(-limit..limit))
            .collect(),
        bias: (0..out).map(|_| rng.gen_range(-limit..limit)).collect(),
    };
    let hidden = (6.0 / shape.width as f32).sqrt() / w0;
    let mut layers = vec![Layer::Sine {
        w0: shape.first_w0,
        dense: dense(shape.width, shape.inputs, 1.0 / shape.inputs as f32),
    }];
    for _ in 0..shape.blocks {
        let first = dense(shape.width, shape.width, hidden);
        let second = dense(shape.width, shape.width, hidden);
        layers.push(Layer::ResidualSine {
            w0: [w0, w0],
            first,
            second,
        });
    }
    layers.push(Layer::Linear {
        dense: dense(
            shape.outputs,
            shape.width,
            (6.0 / shape.width as f32).sqrt(),
        ),
    });
    let (input_scale, input_shift) = crate::model::normalization::bounding_box(bounds);
    ResidualSiren {
        inputs: shape.inputs,
        input_scale,
        input_shift,
        layers,
    }
}

/// A complete file description for a synthetic model on an image domain.
pub struct ImageFileSpec {
    pub dims: [u64; 3],
    pub origin: [f64; 3],
    pub spacing: [f64; 3],
    pub times: Option<Vec<f64>>,
    /// (name, components, association, range per component).
    pub variables: Vec<(String, u32, Association, Vec<[f64; 2]>)>,
    pub width: usize,
    pub blocks: usize,
    pub encoding: WeightEncoding,
    pub seed: u64,
}

impl ImageFileSpec {
    /// A small default: 4 variables on a 24 x 20 x 16 grid with 3 time steps.
    pub fn small(seed: u64) -> Self {
        ImageFileSpec {
            dims: [24, 20, 16],
            origin: [-1.5, 0.25, 10.0],
            spacing: [0.5, 0.25, 2.0],
            times: Some(vec![0.0, 0.5, 2.0]),
            variables: vec![
                (
                    "pressure".into(),
                    1,
                    Association::Point,
                    vec![[-3.0e5, 1.2e6]],
                ),
                (
                    "velocity".into(),
                    3,
                    Association::Point,
                    vec![[-4.0, 4.0], [-2.0, 5.0], [0.0, 1.0]],
                ),
                ("density".into(), 1, Association::Cell, vec![[0.5, 2.5]]),
            ],
            width: 16,
            blocks: 2,
            encoding: WeightEncoding::F32,
            seed,
        }
    }

    /// Bounds of the grid points.
    pub fn bounds(&self) -> [[f64; 2]; 3] {
        std::array::from_fn(|a| {
            [
                self.origin[a],
                self.origin[a] + (self.dims[a] - 1) as f64 * self.spacing[a],
            ]
        })
    }

    /// Builds the model and the file's bytes.
    pub fn build(&self) -> Result<(ResidualSiren, Vec<u8>)> {
        let mut bounds = self.bounds().to_vec();
        if let Some(t) = &self.times {
            bounds.push([t[0], t[t.len() - 1]]);
        }
        let outputs = self.variables.iter().map(|v| v.1 as usize).sum();
        let shape = SirenShape {
            inputs: bounds.len(),
            width: self.width,
            blocks: self.blocks,
            outputs,
            first_w0: 3.0,
        };
        let model = residual_siren(shape, &bounds, self.seed);
        let mut builder = FileBuilder::new();
        let section = builder.new_section("weights", Compression::Zstd);
        let model_value = model.write(&mut builder, section, self.encoding)?;
        let metadata = Metadata {
            generator: format!("inr {} (synthetic)", env!("CARGO_PKG_VERSION")),
            domain: Domain::Image {
                dims: self.dims,
                origin: self.origin,
                spacing: self.spacing,
            },
            time: self.times.clone().map(|values| TimeAxis { values }),
            variables: self
                .variables
                .iter()
                .map(|(name, components, association, range)| Variable {
                    name: name.clone(),
                    components: *components,
                    association: *association,
                    range: range.clone(),
                    units: None,
                })
                .collect(),
            model: model_value,
            sections: Vec::new(),
            attributes: Default::default(),
        };
        let bytes = builder.to_bytes(metadata)?;
        Ok((model, bytes))
    }
}

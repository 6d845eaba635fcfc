//! Synthetic models: residual SIRENs with SIREN initialization and random
//! weights, wrapped in complete `.inr` files. Tests, benchmarks and the demo use
//! them where a trained model is not needed (the decoder's cost and
//! correctness do not depend on what the weights learned).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use inr_core::error::Result;
use inr_core::format::section::Compression;
use inr_core::format::{
    Association, Domain, FileBuilder, Metadata, TimeAxis, Variable, WeightEncoding,
};
use inr_core::mesh::Mesh;
use inr_core::model::mc_inr::ClusterTree;
use inr_core::model::{CoordNetB, Dense, Layer, McInr, ResidualSiren};

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
    let (input_scale, input_shift) = inr_core::model::normalization::bounding_box(bounds);
    ResidualSiren {
        inputs: shape.inputs,
        input_scale,
        input_shift,
        layers,
    }
}

/// A complete file description for a synthetic model on an image domain,
/// or on an unstructured mesh when `mesh` is set (then `dims`, `origin` and
/// `spacing` are unused).
pub struct SyntheticSpec {
    pub mesh: Option<Mesh>,
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

impl SyntheticSpec {
    /// A small default: 3 variables (5 components) on a 24 x 20 x 16 grid with 3 time steps.
    pub fn small(seed: u64) -> Self {
        SyntheticSpec {
            mesh: None,
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

    /// Bounds of the grid points or of the mesh.
    pub fn bounds(&self) -> [[f64; 2]; 3] {
        if let Some(m) = &self.mesh {
            let b = m.bounds();
            return [[b[0], b[1]], [b[2], b[3]], [b[4], b[5]]];
        }
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
        let bytes = self.file_bytes(builder, model_value)?;
        Ok((model, bytes))
    }

    /// Builds an MC-INR model of `clusters` and the file's bytes: its
    /// leaves' networks have this spec's width and trunk blocks.
    pub fn build_mc_inr(&self, clusters: &ClusterSpec) -> Result<(McInr, Vec<u8>)> {
        let mut bounds = self.bounds().to_vec();
        if let Some(t) = &self.times {
            bounds.push([t[0], t[t.len() - 1]]);
        }
        let components: Vec<usize> = self.variables.iter().map(|v| v.1 as usize).collect();
        let model = mc_inr(
            clusters,
            self.width,
            self.blocks,
            &components,
            &bounds,
            self.seed,
        );
        let mut builder = FileBuilder::new();
        let model_value = model.write(&mut builder, self.encoding)?;
        let bytes = self.file_bytes(builder, model_value)?;
        Ok((model, bytes))
    }

    /// The file of a model already added to `builder`: the domain, the time
    /// axis and the variables of this spec.
    fn file_bytes(&self, mut builder: FileBuilder, model: serde_json::Value) -> Result<Vec<u8>> {
        let domain = match &self.mesh {
            Some(mesh) => mesh.write(&mut builder),
            None => Domain::Image {
                dims: self.dims,
                origin: self.origin,
                spacing: self.spacing,
            },
        };
        let metadata = Metadata {
            generator: format!("inr {} (synthetic)", env!("CARGO_PKG_VERSION")),
            domain,
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
            model,
            sections: Vec::new(),
            attributes: Default::default(),
            corrections: None,
        };
        builder.to_bytes(metadata)
    }
}

/// The cluster tree of a synthetic MC-INR model.
#[derive(Clone, Copy, Debug)]
pub struct ClusterSpec {
    /// Roots: centroids drawn uniformly in the domain's bounds.
    pub clusters: usize,
    /// The first this many roots are split into two children (centroids
    /// a tenth of the domain apart), as re-clustering does.
    pub splits: usize,
    /// Residual blocks of each variable's branch.
    pub branch_blocks: usize,
    /// Width of the blending band (0: none), in domain units.
    pub blend_width: f64,
}

/// A random MC-INR model on `bounds` (per input [lo, hi]; 3 or 4 inputs):
/// SIREN-initialized CoordNetB networks of `width` with `blocks` trunk
/// blocks and a branch per variable of `components` outputs, normalized to
/// the whole domain.
pub fn mc_inr(
    spec: &ClusterSpec,
    width: usize,
    blocks: usize,
    components: &[usize],
    bounds: &[[f64; 2]],
    seed: u64,
) -> McInr {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6d63);
    let mut centroids: Vec<[f64; 3]> = (0..spec.clusters.max(1))
        .map(|_| std::array::from_fn(|a| rng.gen_range(bounds[a][0]..=bounds[a][1])))
        .collect();
    let roots = centroids.len();
    let mut children = vec![Vec::new(); roots];
    for r in 0..spec.splits.min(roots) {
        let c = centroids[r];
        for sign in [-1.0, 1.0] {
            let a = r % 3;
            let mut child = c;
            child[a] += sign * 0.05 * (bounds[a][1] - bounds[a][0]);
            children[r].push(centroids.len() as u32);
            centroids.push(child);
            children.push(Vec::new());
        }
    }
    let mut leaf = vec![None; centroids.len()];
    let mut leaves = Vec::new();
    for (i, kids) in children.iter().enumerate() {
        if kids.is_empty() {
            leaf[i] = Some(leaves.len() as u32);
            leaves.push(coordnet_b(
                width,
                blocks,
                spec.branch_blocks,
                components,
                bounds,
                rng.gen(),
            ));
        }
    }
    McInr {
        inputs: bounds.len(),
        blend_width: spec.blend_width,
        tree: ClusterTree {
            centroids,
            children,
            roots: (0..roots as u32).collect(),
            leaf,
        },
        leaves,
    }
}

/// One random CoordNetB: a residual SIREN trunk without its head, and per
/// variable a branch of residual blocks and a linear layer.
fn coordnet_b(
    width: usize,
    blocks: usize,
    branch_blocks: usize,
    components: &[usize],
    bounds: &[[f64; 2]],
    seed: u64,
) -> CoordNetB {
    let shape = |outputs: usize, blocks: usize| SirenShape {
        inputs: bounds.len(),
        width,
        blocks,
        outputs,
        first_w0: 3.0,
    };
    let mut trunk = residual_siren(shape(1, blocks), bounds, seed);
    trunk.layers.pop(); // its head: the branches take its features
    let branches = components
        .iter()
        .enumerate()
        .map(|(v, &c)| {
            // A residual SIREN's blocks and head, after its first layer.
            let mut b = residual_siren(shape(c, branch_blocks), bounds, seed + 1 + v as u64);
            b.layers.remove(0);
            b.layers
        })
        .collect();
    CoordNetB {
        input_scale: trunk.input_scale,
        input_shift: trunk.input_shift,
        trunk: trunk.layers,
        branches,
    }
}

//! The size search's view of STSR-INR: the file of a stand-in network at a
//! width, its tensors drawn from as many random values as their codebooks
//! will hold (docs on the method in `crate::size`).

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use inr_core::error::Result;
use inr_core::format::WeightEncoding;
use inr_core::model::stacked::StackedLayer;
use inr_core::model::stsr::StsrParts;
use inr_core::model::{Dense, Layer};

use super::grid::Grid;
use super::net::{NetShape, W0};
use super::StsrModel;
use crate::data::Samples;
use crate::export;
use crate::levels::Levels;
use crate::size::{SizeModel, MIN_WIDTH};

/// STSR-INR of `shape` (any width) on `samples`.
pub struct StsrSize<'a> {
    pub samples: &'a Samples,
    pub grid: &'a Grid,
    pub shape: NetShape,
    pub encoding: WeightEncoding,
}

impl StsrSize<'_> {
    fn at(&self, width: usize) -> NetShape {
        NetShape {
            width,
            ..self.shape
        }
    }
}

impl SizeModel for StsrSize<'_> {
    fn min_width(&self) -> usize {
        MIN_WIDTH
    }

    fn parameters(&self, width: usize) -> u64 {
        self.at(width).parameters()
    }

    fn bytes(&self, width: usize) -> Result<u64> {
        let shape = self.at(width);
        let bits = match self.encoding {
            WeightEncoding::Codebook { bits, .. } => bits,
            _ => 0,
        };
        let model = StsrModel(stand_in(self.grid, shape, bits));
        // The encoder's description at its longest.
        let description = format!(
            "stsr width {width} blocks {} latent {} heads [4096, 4096, 4096] head sines {} w0 5, \
             1000000 steps, batch 1000000, lr 0.0018823529411764706, vad log var 0.001 kld 0.001, \
             seed 18446744073709551615, 16-bit codebooks, codebooks fine-tuned 100000 steps",
            shape.blocks, shape.latent_dim, shape.head_sines
        );
        let attributes = BTreeMap::from([("encoder".to_string(), description)]);
        export::model_bytes_of(self.samples, &model, self.encoding, attributes)
    }

    fn describe(&self) -> String {
        format!(
            "STSR-INR with {} residual blocks, latent {} and {} heads",
            self.shape.blocks, self.shape.latent_dim, self.shape.heads
        )
    }
}

/// A network of `shape` whose tensors take at most as many distinct
/// values as `bits`-bit codebooks give them (random ones: incompressible).
fn stand_in(grid: &Grid, shape: NetShape, bits: u8) -> StsrParts {
    let levels = Levels::uniform(&shape.tensor_sizes(), bits);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let latents = (0..shape.variables * shape.latent_dim)
        .map(|_| rng.gen_range(-2.0..2.0))
        .collect();
    let mut tensors = shape.tensor_sizes().into_iter().zip(levels.0);
    let mut next = || {
        let (n, l) = tensors.next().expect("as many tensors as sizes");
        let table: Vec<f32> = (0..l.unwrap_or(n).min(n))
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        (0..n)
            .map(|i| match l {
                Some(_) => table[rng.gen_range(0..table.len())],
                None => table[i],
            })
            .collect::<Vec<f32>>()
    };
    let w = shape.width;
    let mut dense = |inp: usize, out: usize| Dense {
        out_features: out,
        in_features: inp,
        weight: next(),
        bias: next(),
    };
    let w0 = W0 as f32;
    let mut stages = vec![(
        Layer::Sine {
            w0,
            dense: dense(shape.inputs, w),
        },
        Layer::Sine {
            w0,
            dense: dense(shape.latent_dim, w),
        },
    )];
    for _ in 0..shape.blocks {
        let mut block = || Layer::ResidualSine {
            w0: [w0, w0],
            first: dense(w, w),
            second: dense(w, w),
        };
        stages.push((block(), block()));
    }
    let mut heads = Vec::new();
    for i in 0..=shape.head_sines {
        let out = if i < shape.head_sines {
            w
        } else {
            shape.outputs
        };
        let d = dense(w, out);
        heads.push(StackedLayer {
            w0: (i < shape.head_sines).then_some(w0),
            mlps: shape.heads,
            out_features: out,
            in_features: w,
            weight: d.weight,
            bias: d.bias,
        });
    }
    super::parts(grid, shape, latents, stages, heads)
}

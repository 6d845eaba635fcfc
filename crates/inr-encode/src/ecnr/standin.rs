//! A stand-in of a planned model: the plan's blocks, MLPs and tables with
//! random values drawn from tables of the sizes training will give, masks
//! at the final sparsity, so that the written file costs what the trained
//! one will (random indices are what zstd compresses least).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use inr_core::format::Association;

use super::blocks::Tiling;
use super::plan::ScalePlan;
use super::quantize::entries;
use super::stacked::MlpShape;
use super::write::{EcnrModel, ScaleModel, Stored, StoredLayer, EMPTY};

/// What the stand-in is made of.
pub struct Spec<'a> {
    pub sites: Association,
    pub tilings: &'a [Tiling],
    /// Per scale, its blocks by decreasing energy.
    pub ranked: &'a [Vec<usize>],
    pub shape: MlpShape,
    pub bits: u8,
    pub sparsity: f64,
}

/// The stand-in of `plans`.
pub fn model(spec: &Spec, plans: &[ScalePlan]) -> EcnrModel {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let scales = plans
        .iter()
        .zip(spec.tilings)
        .zip(spec.ranked)
        .map(|((p, t), ranked)| scale(spec, p, t, ranked, &mut rng))
        .collect();
    EcnrModel {
        sites: spec.sites,
        block: spec.tilings[0].block,
        latent_dim: spec.shape.latent_dim,
        scales,
    }
}

fn scale(
    spec: &Spec,
    p: &ScalePlan,
    t: &Tiling,
    ranked: &[usize],
    rng: &mut ChaCha8Rng,
) -> ScaleModel {
    let m = p.mlps();
    let mut kept: Vec<usize> = ranked.iter().copied().take(p.blocks).collect();
    kept.sort_unstable();
    let mut assignment = vec![EMPTY; t.len()];
    for &b in &kept {
        assignment[b] = rng.gen_range(0..m as u32);
    }
    let l = spec.shape.latent_dim;
    let mut latents = vec![Vec::new(); t.counts[3]];
    let n_latent = kept.len() * l;
    let quantized = spec.bits > 0;
    let latent_table = table(entries(n_latent, spec.bits), rng);
    for &b in &kept {
        for _ in 0..l {
            latents[t.time_of(b)].push(draw(&latent_table, quantized, rng));
        }
    }
    let layers_io = spec.shape.layers();
    let n = layers_io.len();
    let weights: usize = layers_io.iter().map(|(i, o)| i * o).sum::<usize>() * m;
    let biases: usize = layers_io.iter().map(|(_, o)| o).sum::<usize>() * m;
    let kept_share = 1.0 - spec.sparsity;
    let (wt, bt) = (
        table(
            entries((weights as f64 * kept_share) as usize, spec.bits),
            rng,
        ),
        table(
            entries((biases as f64 * kept_share) as usize, spec.bits),
            rng,
        ),
    );
    let layers = layers_io
        .iter()
        .enumerate()
        .map(|(i, &(inp, out))| StoredLayer {
            weight: stored(
                vec![m as u64, out as u64, inp as u64],
                &wt,
                i + 1 < n,
                spec,
                rng,
            ),
            bias: stored(
                vec![m as u64, out as u64],
                &bt,
                i > 0 && i + 1 < n,
                spec,
                rng,
            ),
            sine: i + 1 < n,
        })
        .collect();
    ScaleModel {
        factor: t.level.factor,
        dims: t.level.dims,
        assignment,
        mlps: m,
        latents,
        layers,
        tables: quantized.then_some([wt, bt, latent_table]),
    }
}

fn table(n: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let mut t: Vec<f32> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
    t.sort_by(f32::total_cmp);
    t
}

fn draw(table: &[f32], quantized: bool, rng: &mut ChaCha8Rng) -> f32 {
    if quantized {
        table[rng.gen_range(0..table.len())]
    } else {
        rng.gen_range(-1.0..1.0)
    }
}

fn stored(
    shape: Vec<u64>,
    table: &[f32],
    masked: bool,
    spec: &Spec,
    rng: &mut ChaCha8Rng,
) -> Stored {
    let n: u64 = shape.iter().product();
    let keep: Option<Vec<bool>> =
        masked.then(|| (0..n).map(|_| rng.gen::<f64>() >= spec.sparsity).collect());
    let values = (0..n as usize)
        .map(|e| match &keep {
            Some(k) if !k[e] => 0.0,
            _ => draw(table, spec.bits > 0, rng),
        })
        .collect();
    Stored {
        shape,
        values,
        keep,
    }
}

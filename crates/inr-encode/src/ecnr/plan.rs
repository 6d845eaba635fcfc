//! How many blocks and MLPs each scale gets for a byte budget. ECNR drops
//! the blocks whose residual is negligible; under a budget the residual
//! energy decides which blocks are worth their bytes: the coarsest scale
//! keeps every block (it is the content), then the finer scales' blocks are
//! taken by decreasing energy (weighted by the native samples a sample of
//! their scale spans) while their latent code and their share of an MLP
//! fit. The energies come from the data's own pyramid (as if the coarser
//! scales were fitted exactly); training re-ranks each scale's blocks on
//! its real residual and keeps as many.

use super::blocks::Tiling;
use super::stacked::MlpShape;

/// A block whose residual's RMS is below this (in [-1, 1] units) is empty
/// whatever the budget (the paper drops L2 norms below 1e-4).
pub const NEGLIGIBLE_RMS: f64 = 1e-4;

/// File bytes besides the scales: header, domain, variables, attributes.
const FIXED_BYTES: f64 = 1500.0;

/// Metadata bytes per tensor reference.
const TENSOR_JSON_BYTES: f64 = 60.0;

/// What the budget gives one scale.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalePlan {
    /// Blocks kept.
    pub blocks: usize,
    /// Blocks per MLP.
    pub per_mlp: usize,
}

impl ScalePlan {
    pub fn mlps(&self) -> usize {
        self.blocks.div_ceil(self.per_mlp).max(1)
    }
}

/// The byte model of a scale's parts.
#[derive(Clone, Copy, Debug)]
pub struct Costs {
    pub shape: MlpShape,
    pub bits: u8,
    /// Final pruning sparsity of the masked tensors.
    pub sparsity: f64,
}

impl Costs {
    fn value_bytes(&self) -> f64 {
        if self.bits == 0 {
            4.0
        } else {
            self.bits as f64 / 8.0
        }
    }

    /// Bytes of one MLP: kept values, masks of the pruned tensors.
    pub fn mlp(&self) -> f64 {
        let layers = self.shape.layers();
        let n = layers.len();
        let (mut masked, mut plain) = (0.0, 0.0);
        for (i, (inp, out)) in layers.iter().enumerate() {
            let (w, b) = ((inp * out) as f64, *out as f64);
            if i + 1 < n {
                masked += w;
            } else {
                plain += w;
            }
            if i > 0 && i + 1 < n {
                masked += b;
            } else {
                plain += b;
            }
        }
        let kept = plain + masked * (1.0 - self.sparsity);
        kept * (self.value_bytes() + self.table_share()) + masked / 8.0
    }

    /// Table bytes per quantized value: tables have an entry per 8 values
    /// at most (`super::quantize::entries`); full tables cost less, which
    /// the plan's calibration against real files finds.
    fn table_share(&self) -> f64 {
        if self.bits == 0 {
            0.0
        } else {
            4.0 / 8.0
        }
    }

    /// Bytes of one block: its latent code and its assignment entry.
    pub fn latent(&self) -> f64 {
        self.shape.latent_dim as f64 * (self.value_bytes() + self.table_share()) + 1.0
    }

    /// Bytes of a scale with `tiling` besides its MLPs and blocks: the
    /// empty blocks' assignment (runs that zstd shrinks) and the tensors'
    /// metadata.
    pub fn scale_overhead(&self, tiling: &Tiling) -> f64 {
        let tensors = 2.0 * self.shape.layers().len() as f64 + tiling.counts[3] as f64;
        tiling.len() as f64 / 16.0 + tensors * TENSOR_JSON_BYTES
    }
}

/// One scale's candidates: per block its energy (sum of squares of the
/// residual) and the number of samples it holds.
#[derive(Clone, Copy)]
pub struct Candidates<'a> {
    pub tiling: &'a Tiling,
    pub energy: &'a [f64],
    pub samples: &'a [usize],
    /// Native samples one of its samples stands for.
    pub weight: f64,
    pub per_mlp: usize,
}

/// Blocks whose residual is not negligible, with their weighted energy.
pub fn useful(c: &Candidates) -> Vec<(usize, f64)> {
    c.energy
        .iter()
        .zip(c.samples)
        .enumerate()
        .filter(|(_, (&e, &n))| n > 0 && (e / n as f64).sqrt() >= NEGLIGIBLE_RMS)
        .map(|(b, (&e, _))| (b, e * c.weight))
        .collect()
}

/// The plan for `scales` (coarsest first) within `budget` bytes (all useful
/// blocks without one); `None` when even the coarsest scale does not fit.
pub fn plan(scales: &[Candidates], costs: &Costs, budget: Option<f64>) -> Option<Vec<ScalePlan>> {
    let useful: Vec<Vec<(usize, f64)>> = scales.iter().map(useful).collect();
    let mut out: Vec<ScalePlan> = scales
        .iter()
        .map(|c| ScalePlan {
            blocks: 0,
            per_mlp: c.per_mlp,
        })
        .collect();
    let Some(budget) = budget else {
        for (p, u) in out.iter_mut().zip(&useful) {
            p.blocks = u.len();
        }
        return Some(out);
    };
    let mut left = budget - FIXED_BYTES;
    for c in scales {
        // Every scale stores at least one MLP, even without blocks.
        left -= costs.scale_overhead(c.tiling) + costs.mlp();
    }
    // The coarsest scale whole.
    out[0].blocks = useful[0].len().max(1);
    left -= (out[0].mlps() - 1) as f64 * costs.mlp() + out[0].blocks as f64 * costs.latent();
    if left < 0.0 {
        return None;
    }
    let mut queue: Vec<(f64, usize)> = useful
        .iter()
        .enumerate()
        .skip(1)
        .flat_map(|(s, u)| u.iter().map(move |&(_, e)| (e, s)))
        .collect();
    queue.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, s) in queue {
        let p = &mut out[s];
        let new_mlp = p.blocks > 0 && p.blocks % p.per_mlp == 0;
        let cost = costs.latent() + if new_mlp { costs.mlp() } else { 0.0 };
        if cost <= left {
            left -= cost;
            p.blocks += 1;
        }
    }
    Some(out)
}

/// Bytes the plan takes by [`Costs`].
pub fn bytes(plans: &[ScalePlan], tilings: &[Tiling], costs: &Costs) -> f64 {
    FIXED_BYTES
        + plans
            .iter()
            .zip(tilings)
            .map(|(p, t)| {
                costs.scale_overhead(t)
                    + p.mlps() as f64 * costs.mlp()
                    + p.blocks as f64 * costs.latent()
            })
            .sum::<f64>()
}

/// Multipliers of the coarsest scale's blocks per MLP tried under a
/// budget: the fewest that fits is taken (the coarsest scale is the content
/// every other scale corrects; its MLPs are the last to share).
const COARSE_SHARING: [usize; 6] = [1, 2, 4, 8, 16, 32];

/// Multipliers of the finer scales' blocks per MLP: beyond 4 times the
/// paper's, an MLP fits its blocks so poorly that dropping blocks is better
/// (measured: 27.7 dB with 800 blocks per MLP on ViscousFingers at CR 500,
/// docs/benchmarks.md).
const FINE_SHARING: [usize; 3] = [1, 2, 4];

/// `scales` with their blocks per MLP times `k0` (coarsest) and `k`.
fn shared<'a>(scales: &[Candidates<'a>], k0: usize, k: usize) -> Vec<Candidates<'a>> {
    scales
        .iter()
        .enumerate()
        .map(|(s, c)| Candidates {
            per_mlp: c.per_mlp * if s == 0 { k0 } else { k },
            ..*c
        })
        .collect()
}

/// How many times the paper's blocks per MLP a budget asks for, `(k0, k)`
/// for the coarsest and the finer scales: the fewest `k0` that fits, then
/// the fewest `k` whose plan leaves at most 1.5 times the least residual
/// energy any `k` leaves out; `None` when nothing fits.
pub fn sharing(scales: &[Candidates], costs: &Costs, budget: f64) -> Option<(usize, usize)> {
    let k0 = *COARSE_SHARING
        .iter()
        .find(|&&k0| plan(&shared(scales, k0, 1), costs, Some(budget)).is_some())?;
    let left_out = |k: usize| -> Option<f64> {
        let shared = shared(scales, k0, k);
        let plans = plan(&shared, costs, Some(budget))?;
        Some(
            shared
                .iter()
                .zip(&plans)
                .skip(1)
                .map(|(c, p)| {
                    let mut e: Vec<f64> = useful(c).into_iter().map(|(_, e)| e).collect();
                    e.sort_by(|a, b| b.total_cmp(a));
                    e.iter().skip(p.blocks).sum::<f64>()
                })
                .sum(),
        )
    };
    let options: Vec<(usize, f64)> = FINE_SHARING
        .iter()
        .filter_map(|&k| left_out(k).map(|d| (k, d)))
        .collect();
    let least = options.iter().map(|o| o.1).fold(f64::INFINITY, f64::min);
    options
        .iter()
        .find(|o| o.1 <= 1.5 * least)
        .map(|o| (k0, o.0))
}

//! How many codebook levels each weight tensor gets, so that a file fills
//! its byte budget. The width is a coarse knob (at width 16 one more unit
//! adds an eighth of the weights); the levels of the tensors whose `2^bits`
//! codebook would be larger than their f32 values are the fine one: such a
//! tensor was stored f32, and a codebook of fewer levels (the format allows
//! any table length, with indices of just enough bits) makes room for a
//! wider network, then takes what the width leaves, 4 bytes a level.

use inr_core::error::Result;
use inr_core::format::writer::{codebook_pays, levels_pay};

/// The fewest levels a budget gives a tensor (7-bit indices): nearly
/// lossless after fine-tuning (docs/benchmarks.md, "Budgets").
pub const MIN_LEVELS: usize = 128;

/// Each weight tensor's levels, in the network's order; `None` stores it
/// f32.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Levels(pub Vec<Option<usize>>);

impl Levels {
    /// Without a budget: `2^bits` levels where such a codebook pays, f32
    /// elsewhere (and everywhere with `bits` 0).
    pub fn uniform(sizes: &[usize], bits: u8) -> Levels {
        Levels(
            sizes
                .iter()
                .map(|&n| (bits > 0 && codebook_pays(n, bits)).then_some(1 << bits))
                .collect(),
        )
    }

    /// The least a budget gives: [`Levels::uniform`], and [`MIN_LEVELS`]
    /// (at most `2^bits`) where `2^bits` does not pay and that does.
    pub fn floor(sizes: &[usize], bits: u8) -> Levels {
        let uniform = Levels::uniform(sizes, bits);
        Levels(
            sizes
                .iter()
                .zip(uniform.0)
                .map(|(&n, u)| u.or_else(|| flexible(n, bits).map(|(lo, _)| lo)))
                .collect(),
        )
    }

    /// The tensors with fewer than `2^bits` levels, and their fewest and
    /// most levels (for the report).
    pub fn reduced(&self, bits: u8) -> Option<(usize, usize, usize)> {
        let full = 1usize << bits;
        let fewer: Vec<usize> = self
            .0
            .iter()
            .flatten()
            .copied()
            .filter(|&l| l < full)
            .collect();
        let (lo, hi) = (fewer.iter().min()?, fewer.iter().max()?);
        Some((fewer.len(), *lo, *hi))
    }
}

/// The range of levels a budget may give `n` values whose `2^bits`
/// codebook does not pay: from [`MIN_LEVELS`] to the most that still pays.
fn flexible(n: usize, bits: u8) -> Option<(usize, usize)> {
    if bits == 0 || codebook_pays(n, bits) {
        return None;
    }
    let lo = MIN_LEVELS.min(1 << bits);
    if !levels_pay(n, lo) {
        return None;
    }
    // Bytes grow with the levels: bisect for the last that pays.
    let (mut ok, mut over) = (lo, (1usize << bits) + 1);
    while over - ok > 1 {
        let mid = (ok + over) / 2;
        if levels_pay(n, mid) {
            ok = mid;
        } else {
            over = mid;
        }
    }
    Some((lo, ok))
}

/// The levels of tensors of `sizes` that fill a budget, `fits` telling
/// whether a plan's file is within it; the [`Levels::floor`] must fit.
/// First one number of levels for every flexible tensor (bisected), then
/// more levels tensor by tensor, then f32 for those that have reached
/// their most, while the file fits.
pub fn fill(
    sizes: &[usize],
    bits: u8,
    fits: &mut dyn FnMut(&Levels) -> Result<bool>,
) -> Result<Levels> {
    let floor = Levels::floor(sizes, bits);
    let ranges: Vec<Option<(usize, usize)>> = sizes.iter().map(|&n| flexible(n, bits)).collect();
    let at = |level: usize| {
        Levels(
            floor
                .0
                .iter()
                .zip(&ranges)
                .map(|(&f, r)| r.map_or(f, |(lo, hi)| Some(level.clamp(lo, hi))))
                .collect(),
        )
    };
    let Some(top) = ranges.iter().flatten().map(|&(_, hi)| hi).max() else {
        return Ok(floor);
    };
    let (mut ok, mut over) = (MIN_LEVELS.min(1 << bits), top + 1);
    while over - ok > 1 {
        let mid = (ok + over) / 2;
        if fits(&at(mid))? {
            ok = mid;
        } else {
            over = mid;
        }
    }
    let mut plan = at(ok);
    let mut grew = true;
    while grew {
        grew = false;
        for (i, r) in ranges.iter().enumerate() {
            let Some((_, hi)) = *r else { continue };
            let mut more = plan.clone();
            more.0[i] = plan.0[i].map(|l| (l + 1).min(hi));
            if more != plan && fits(&more)? {
                plan = more;
                grew = true;
            }
        }
    }
    for (i, r) in ranges.iter().enumerate() {
        let Some((_, hi)) = *r else { continue };
        if plan.0[i] == Some(hi) {
            let mut exact = plan.clone();
            exact.0[i] = None;
            if fits(&exact)? {
                plan = exact;
            }
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use inr_core::format::writer::codebook_bytes;

    #[test]
    fn small_tensors_get_a_range_of_levels_large_ones_keep_theirs() {
        // 16 x 16: a 9-bit codebook (2 KiB of table) is larger than 1 KiB of
        // f32; 128 levels (512 + 224 bytes) pay, up to 191.
        assert_eq!(flexible(256, 9), Some((128, 191)));
        assert!(levels_pay(256, 191) && !levels_pay(256, 192));
        // 54 x 54 pays at 9 bits: not flexible, 512 levels.
        assert_eq!(flexible(2916, 9), None);
        // Too small for 128 levels: f32.
        assert_eq!(flexible(64, 9), None);
        let sizes = [48, 16, 256, 16, 2916, 1];
        assert_eq!(
            Levels::uniform(&sizes, 9).0,
            [None, None, None, None, Some(512), None]
        );
        assert_eq!(
            Levels::floor(&sizes, 9).0,
            [None, None, Some(128), None, Some(512), None]
        );
        assert_eq!(Levels::uniform(&sizes, 0).0, [None; 6]);
    }

    /// The plan's bytes: codebooks as the writer stores them, f32 elsewhere.
    fn bytes(sizes: &[usize], plan: &Levels) -> u64 {
        sizes
            .iter()
            .zip(&plan.0)
            .map(|(&n, l)| l.map_or(4 * n as u64, |l| codebook_bytes(n, l)))
            .sum()
    }

    #[test]
    fn the_fill_ends_within_a_level_of_the_budget() {
        let sizes = [48, 16, 256, 16, 256, 16, 400, 16, 2916];
        let floor = bytes(&sizes, &Levels::floor(&sizes, 9));
        for extra in [0, 3, 100, 700, 1500, 100_000] {
            let budget = floor + extra;
            let plan = fill(&sizes, 9, &mut |p| Ok(bytes(&sizes, p) <= budget)).unwrap();
            let used = bytes(&sizes, &plan);
            assert!(used <= budget, "{extra}: {used} > {budget}");
            // What is left is less than the cheapest step still open: one
            // more level of a tensor (4 bytes, or an index bit more).
            let left = budget - used;
            let open = sizes
                .iter()
                .zip(&plan.0)
                .zip(sizes.iter().map(|&n| flexible(n, 9)))
                .filter_map(|((&n, &l), r)| {
                    let (_, hi) = r?;
                    match l? {
                        l if l < hi => Some(codebook_bytes(n, l + 1) - codebook_bytes(n, l)),
                        l => Some(4 * n as u64 - codebook_bytes(n, l)),
                    }
                })
                .min();
            assert!(
                open.is_none_or(|step| left < step),
                "{extra}: {left} left, {plan:?}"
            );
        }
        let all = fill(&sizes, 9, &mut |_| Ok(true)).unwrap();
        assert_eq!(
            all,
            Levels(vec![
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                Some(512)
            ])
        );
    }
}

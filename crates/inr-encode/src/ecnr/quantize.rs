//! Global quantization of a scale (the paper's Section 3.5): one k-means
//! table for all the scale's kept weights, one for its biases, one for its
//! latent codes; the tables become variables that fine-tuning trains with
//! the values that draw from them.

use tch::nn::Path;
use tch::Tensor;

use inr_core::error::Result;
use inr_core::quantize::kmeans_1d;

use super::stacked::{Stacked, Tables};
use crate::tensor_values as values;

/// Kept values of the masked or plain tensors.
fn kept(pairs: &[(&Tensor, &Option<Tensor>)]) -> Result<Vec<f32>> {
    let mut out = Vec::new();
    for (t, mask) in pairs {
        let v = values(t)?;
        match mask {
            Some(m) => {
                let keep = values(m)?;
                out.extend(
                    v.iter()
                        .zip(&keep)
                        .filter(|(_, &k)| k > 0.0)
                        .map(|(&x, _)| x),
                );
            }
            None => out.extend(v),
        }
    }
    Ok(out)
}

/// Values per table entry at least: a table larger than this costs more
/// than its finer steps save (a small scale's latents and biases).
const VALUES_PER_ENTRY: usize = 8;

/// Entries of the table of `n` values at `bits` bits.
pub fn entries(n: usize, bits: u8) -> usize {
    (1usize << bits).min((n / VALUES_PER_ENTRY).max(2))
}

/// The table of [`entries`] entries for `values`, sorted.
pub fn table(values: &[f32], bits: u8) -> Vec<f32> {
    kmeans_1d(values, entries(values.len(), bits)).codebook
}

/// Quantizes `net` to `bits`-bit shared tables (variables under `p`).
pub fn quantize(p: &Path, net: &mut Stacked, bits: u8) -> Result<()> {
    let weights: Vec<_> = net
        .layers
        .iter()
        .map(|l| (&l.weight, &l.weight_mask))
        .collect();
    let biases: Vec<_> = net.layers.iter().map(|l| (&l.bias, &l.bias_mask)).collect();
    let none = None;
    let make = |name: &str, v: Vec<f32>| -> Tensor {
        let t = Tensor::from_slice(&table(&v, bits)).to_device(p.device());
        p.var_copy(name, &t)
    };
    let tables = Tables {
        weights: make("weight_table", kept(&weights)?),
        biases: make("bias_table", kept(&biases)?),
        latents: make("latent_table", kept(&[(&net.latents, &none)])?),
    };
    net.tables = Some(tables);
    Ok(())
}

//! A trainable tensor as deep compression trains it: free values, or
//! `codebook[indices]` whose codebook alone trains after quantization.

use tch::nn::Path;
use tch::Tensor;

use inr_core::error::Result;
use inr_core::quantize::kmeans_1d;

use crate::tensor_values;

/// A tensor of free values, or a k-means codebook and the fixed index of
/// each value in it.
#[derive(Debug)]
pub(crate) enum Param {
    Free(Tensor),
    Shared {
        codebook: Tensor,
        indices: Tensor,
        shape: Vec<i64>,
    },
}

impl Param {
    /// The values as one tensor of the parameter's shape.
    pub(crate) fn value(&self) -> Tensor {
        match self {
            Param::Free(t) => t.shallow_clone(),
            Param::Shared {
                codebook,
                indices,
                shape,
            } => codebook.index_select(0, indices).view(shape.as_slice()),
        }
    }

    /// The values on the CPU as f32, flattened.
    pub(crate) fn values(&self) -> Result<Vec<f32>> {
        tensor_values(&self.value())
    }

    /// The same values as variable `name` of `p`: shared through a k-means
    /// codebook of `levels` entries, or free (f32 in the file) without.
    pub(crate) fn quantized(&self, p: &Path, name: &str, levels: Option<usize>) -> Result<Param> {
        let value = self.value();
        let shape = value.size();
        let values = tensor_values(&value)?;
        let Some(levels) = levels else {
            let t = Tensor::from_slice(&values).view(shape.as_slice());
            return Ok(Param::Free(p.var_copy(name, &t)));
        };
        let q = kmeans_1d(&values, levels);
        let indices: Vec<i64> = q.indices.iter().map(|&i| i as i64).collect();
        Ok(Param::Shared {
            codebook: p.var_copy(name, &Tensor::from_slice(&q.codebook)),
            indices: Tensor::from_slice(&indices).to_device(p.device()),
            shape,
        })
    }
}

//! Quantization-aware fine-tuning: a weight that stays a free variable but
//! is used, in every forward pass, as its nearest codebook entry, the
//! gradient passing "straight through" the rounding to the weight (and, by
//! the entry's selection, to the codebook).
//!
//! Deep compression's fine-tuning fixes each weight's k-means entry and
//! trains only the entries; here a weight may move to another entry when
//! the loss asks for it: a table shared by many networks cannot fix one
//! network's rounding otherwise (docs/benchmarks.md).

use tch::{Kind, Tensor};

/// Index into `table` `[n]` of the entry nearest each value of `w`
/// (flattened). The table trains, so its order may change: the search
/// runs over a sorted copy.
pub fn nearest_entries(table: &Tensor, w: &Tensor) -> Tensor {
    let _guard = tch::no_grad_guard();
    let n = table.size()[0];
    let flat = w.detach().reshape([-1]);
    if n < 2 {
        return flat.zeros_like().to_kind(Kind::Int64);
    }
    let (sorted, order) = table.detach().sort(0, false);
    let hi = flat
        .searchsorted(&sorted, false, false, "left", None::<Tensor>)
        .clamp(1, n - 1);
    let lo = &hi - 1;
    let below = &flat - sorted.index_select(0, &lo);
    let above = sorted.index_select(0, &hi) - &flat;
    order.index_select(0, &lo.where_self(&below.le_tensor(&above), &hi))
}

/// `weight`'s values replaced by their nearest entries of `table`: those
/// values forward, the gradient to `weight` unchanged backward, and to each
/// selected entry as a shared parameter.
pub fn drawn(table: &Tensor, weight: &Tensor) -> Tensor {
    let q = table
        .index_select(0, &nearest_entries(table, weight))
        .view(weight.size().as_slice());
    q + (weight - weight.detach())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn each_value_draws_its_nearest_entry_of_an_unsorted_table() {
        let table = Tensor::from_slice(&[0.5f32, -1.0, 2.0, 0.0]);
        let w = Tensor::from_slice(&[-3.0f32, -0.4, 0.2, 0.3, 1.24, 1.26, 9.0]).view([7, 1]);
        let got = Vec::<i64>::try_from(&nearest_entries(&table, &w)).unwrap();
        assert_eq!(got, vec![1, 3, 3, 0, 0, 2, 2]);
        let one = Tensor::from_slice(&[0.25f32]);
        let zero = Vec::<i64>::try_from(&nearest_entries(&one, &w)).unwrap();
        assert_eq!(zero, vec![0; 7]);
    }

    #[test]
    fn the_gradient_passes_straight_to_the_weight_and_to_the_entries() {
        let table = Tensor::from_slice(&[-1.0f32, 1.0]).set_requires_grad(true);
        let w = Tensor::from_slice(&[-0.2f32, 0.3, 0.9])
            .to_device(Device::Cpu)
            .set_requires_grad(true);
        let q = drawn(&table, &w);
        assert_eq!(
            Vec::<f32>::try_from(&q.detach()).unwrap(),
            vec![-1.0, 1.0, 1.0]
        );
        (&q * Tensor::from_slice(&[1.0f32, 2.0, 3.0]))
            .sum(Kind::Float)
            .backward();
        assert_eq!(
            Vec::<f32>::try_from(&w.grad()).unwrap(),
            vec![1.0, 2.0, 3.0]
        );
        assert_eq!(Vec::<f32>::try_from(&table.grad()).unwrap(), vec![1.0, 5.0]);
    }
}

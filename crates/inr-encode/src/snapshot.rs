//! Copies of a var store's weights, whole or network by network (a group
//! of networks trained at once has them along every variable's first axis).

use tch::nn::VarStore;
use tch::Tensor;

/// A copy of all of a var store's trainable variables, in its order.
pub struct Snapshot(Vec<Tensor>);

impl Snapshot {
    /// A copy of `vs`'s weights now.
    pub fn of(vs: &VarStore) -> Snapshot {
        Snapshot(
            vs.trainable_variables()
                .iter()
                .map(|t| t.detach().copy())
                .collect(),
        )
    }

    /// Takes `vs`'s weights now, all of them.
    pub fn take(&mut self, vs: &VarStore) {
        *self = Snapshot::of(vs);
    }

    /// Takes `vs`'s weights of the networks `rows`.
    pub fn take_rows(&mut self, vs: &VarStore, rows: &[usize]) {
        copy_rows(&vs.trainable_variables(), &self.0, rows);
    }

    /// Sets `vs`'s weights to these, all of them.
    pub fn restore(&self, vs: &VarStore) {
        let _guard = tch::no_grad_guard();
        for (mut v, s) in vs.trainable_variables().into_iter().zip(&self.0) {
            v.copy_(s);
        }
    }

    /// Sets `vs`'s weights of the networks `rows` to these.
    pub fn restore_rows(&self, vs: &VarStore, rows: &[usize]) {
        copy_rows(&self.0, &vs.trainable_variables(), rows);
    }

    /// [`Self::restore_rows`] for a group of `k` networks; for one, whose
    /// variables need not have a network axis, the whole snapshot.
    pub fn restore_rows_or_all(&self, vs: &VarStore, k: usize, rows: &[usize]) {
        match (k, rows.is_empty()) {
            (_, true) => {}
            (1, false) => self.restore(vs),
            _ => self.restore_rows(vs, rows),
        }
    }
}

/// Copies the slices `rows` along the first axis of `from` into `to`,
/// tensor by tensor, the other rows left as they are.
fn copy_rows(from: &[Tensor], to: &[Tensor], rows: &[usize]) {
    let _guard = tch::no_grad_guard();
    for (f, t) in from.iter().zip(to) {
        for &g in rows {
            t.get(g as i64).copy_(&f.get(g as i64));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn rows_go_back_alone() {
        let vs = VarStore::new(Device::Cpu);
        let _w = vs.root().zeros("w", &[3, 4, 2]);
        let _b = vs.root().zeros("b", &[3, 2]);
        let start = Snapshot::of(&vs);
        let moved = |by: f64| {
            let _guard = tch::no_grad_guard();
            for mut v in vs.trainable_variables() {
                let _ = v.f_add_scalar_(by).unwrap();
            }
        };
        moved(1.0);
        let mut best = Snapshot::of(&vs);
        best.restore_rows(&vs, &[]);
        moved(1.0);
        best.take_rows(&vs, &[2]);
        moved(5.0);
        start.restore_rows(&vs, &[0]);
        best.restore_rows(&vs, &[2]);
        for v in vs.trainable_variables() {
            let at = |g: i64| v.get(g).mean(Kind::Double).double_value(&[]);
            // Row 0 is back at the start, row 2 at its best (taken after
            // the second move), row 1 keeps every move.
            assert_eq!((at(0), at(1), at(2)), (0.0, 7.0, 2.0));
        }
        start.restore(&vs);
        assert!(vs.trainable_variables().iter().all(|v| v
            .abs()
            .sum(Kind::Double)
            .double_value(&[])
            == 0.0));
    }
}

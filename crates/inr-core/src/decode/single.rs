//! The residual SIREN family in the decoder: one network everywhere, its
//! points evaluated in tiles, in parallel.

use std::any::Any;

use crate::decode::family::{Evaluator, Family, OutputRequest, Outputs};
use crate::decode::parallel::{self, DecodeOptions};
use crate::decode::{plan, Affine};
use crate::error::Result;
use crate::kernels::mlp::{Plan, TILE};
use crate::model::{Layer, ResidualSiren};

impl Family for ResidualSiren {
    fn parameter_count(&self) -> u64 {
        ResidualSiren::parameter_count(self)
    }

    fn describe(&self) -> String {
        let blocks = self
            .layers
            .iter()
            .filter(|l| matches!(l, Layer::ResidualSine { .. }))
            .count();
        let width = self.layers.first().map_or(0, |l| l.features().1);
        format!(
            "{} inputs, width {width}, {blocks} residual blocks, {} outputs",
            self.inputs,
            self.outputs()
        )
    }

    fn prepare<'a>(&'a self, request: &OutputRequest) -> Result<Box<dyn Evaluator + 'a>> {
        let maps: Vec<_> = request.output_maps(false).into_iter().flatten().collect();
        Ok(Box::new(SingleNetwork {
            plan: plan::residual_siren(self, &maps),
            affine: Affine::of(self.inputs, &self.input_scale, &self.input_shift),
        }))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// One network, one input normalization.
pub(crate) struct SingleNetwork {
    pub plan: Plan,
    pub affine: Affine,
}

impl Evaluator for SingleNetwork {
    fn outputs(&self) -> usize {
        self.plan.outputs()
    }

    fn flops_per_point(&self) -> u64 {
        self.plan.flops_per_point()
    }

    fn eval(
        &self,
        n: usize,
        coords: &(dyn Fn(usize) -> [f64; 3] + Sync),
        time_of: &(dyn Fn(usize) -> f64 + Sync),
        out: Outputs,
        options: &DecodeOptions,
    ) -> Result<()> {
        let (k, c) = (self.plan.inputs(), self.plan.outputs());
        let jobs = out.tiles();
        parallel::run(
            jobs,
            options,
            || {
                let scratch = self.plan.scratch();
                (scratch, vec![0f32; TILE * k], vec![0f32; TILE * c])
            },
            |(scratch, input, result), (start, mut o)| {
                let len = TILE.min(n - start);
                for p in 0..len {
                    let q = start + p;
                    self.affine
                        .apply(coords(q), time_of(q), &mut input[p * k..(p + 1) * k]);
                }
                self.plan.eval_tile(len, input, result, scratch);
                o.put(0, len, result);
            },
        )
    }
}

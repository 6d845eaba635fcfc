//! Evaluation at arbitrary points.

use crate::decode::parallel::DecodeOptions;
use crate::decode::{Decoder, Outputs};
use crate::error::{Error, Result};

/// The time of each queried point.
#[derive(Clone, Copy, Debug)]
pub enum PointTimes<'a> {
    /// All points at one time (`None`: the first step).
    Fixed(Option<f64>),
    /// One time per point.
    PerPoint(&'a [f64]),
}

impl Decoder {
    /// Evaluates `points` (x, y, z triples, in the domain's coordinates) for the
    /// given variables. `out` receives, point after point, the components of
    /// each requested variable in request order: `points.len() / 3 * C`
    /// values, `C` the sum of the requested variables' components.
    pub fn evaluate(
        &self,
        points: &[f64],
        times: PointTimes,
        variables: &[usize],
        out: &mut [f32],
        options: &DecodeOptions,
    ) -> Result<()> {
        if points.len() % 3 != 0 {
            return Err(Error::InvalidArgument(format!(
                "{} coordinates is not a multiple of 3",
                points.len()
            )));
        }
        if points.iter().any(|c| !c.is_finite()) {
            return Err(Error::InvalidArgument(
                "a point coordinate is not finite".into(),
            ));
        }
        let n = points.len() / 3;
        let evaluator = self.prepare(variables, options)?;
        let c = evaluator.outputs();
        if out.len() != n * c {
            return Err(Error::InvalidArgument(format!(
                "output holds {} values, {} needed",
                out.len(),
                n * c
            )));
        }
        let fixed = match times {
            PointTimes::Fixed(t) => Some(self.effective_time(t)?),
            PointTimes::PerPoint(t) if t.len() == n => None,
            PointTimes::PerPoint(t) => {
                return Err(Error::InvalidArgument(format!(
                    "{} times for {n} points",
                    t.len()
                )));
            }
        };
        let time_of = |p: usize| -> Result<f64> {
            match (fixed, times) {
                (Some(t), _) => Ok(t),
                (None, PointTimes::PerPoint(ts)) => self.effective_time(Some(ts[p])),
                (None, PointTimes::Fixed(_)) => unreachable!("fixed times resolved above"),
            }
        };
        if let PointTimes::PerPoint(ts) = times {
            if ts.iter().any(|t| t.is_nan()) {
                return Err(Error::InvalidArgument("a point time is NaN".into()));
            }
        }
        let xyz = |p: usize| [points[3 * p], points[3 * p + 1], points[3 * p + 2]];
        let t = |p: usize| time_of(p).unwrap_or(0.0);
        evaluator.eval(n, &xyz, &t, Outputs::interleaved(out, c), options)
    }
}

//! The optional `corrections` object (format 1.1): a guaranteed maximum
//! error at the stored sites, kept by quantized residuals stored beside the
//! network. Only its shape is checked here; the blocks are read on decode.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format::Variable;

/// Where the corrections are and what they guarantee.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CorrectionsMeta {
    /// Per variable, per component: the largest absolute error at a stored
    /// site once corrected.
    pub bound: Vec<Vec<f64>>,
    /// Per variable, per component: the value of one correction unit.
    pub step: Vec<Vec<f64>>,
    /// Per stored time step, the section holding its blocks.
    pub sections: Vec<u32>,
}

impl CorrectionsMeta {
    /// Checks the shapes against the variables, the time steps and the
    /// section table; steps must be positive, finite and at most twice the bound.
    pub fn validate(&self, variables: &[Variable], steps: usize, sections: usize) -> Result<()> {
        let shape_ok = |t: &[Vec<f64>]| {
            t.len() == variables.len()
                && t.iter()
                    .zip(variables)
                    .all(|(c, v)| c.len() == v.components as usize)
        };
        if !shape_ok(&self.bound) || !shape_ok(&self.step) {
            return Err(Error::Shape(
                "corrections: bound and step need one value per component of each variable".into(),
            ));
        }
        let pairs = self.bound.iter().flatten().zip(self.step.iter().flatten());
        for (&b, &s) in pairs {
            if !(b.is_finite() && s.is_finite() && s > 0.0 && s <= 2.0 * b) {
                return Err(Error::Invalid(format!(
                    "corrections: step {s} for bound {b} (need 0 < step <= 2 bound, finite)"
                )));
            }
        }
        if self.sections.len() != steps {
            return Err(Error::Shape(format!(
                "corrections: {} sections for {steps} time steps",
                self.sections.len()
            )));
        }
        match self.sections.iter().find(|&&s| s as usize >= sections) {
            Some(s) => Err(Error::OutOfBounds(format!(
                "corrections: section {s} of {sections}"
            ))),
            None => Ok(()),
        }
    }
}

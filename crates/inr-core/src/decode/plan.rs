//! Plans for the kernels, built from a family's layers for one request: the
//! heads cut down to the requested outputs, with the de-normalization to
//! physical units folded into their rows.

use crate::kernels::mlp::{Head, Matrix, Plan, Step};
use crate::model::{Dense, Layer, ResidualSiren};

/// One output of a plan: network output `index`, mapped to physical units by
/// `value = scale * y + offset`.
#[derive(Clone, Copy, Debug)]
pub struct OutputMap {
    pub index: usize,
    pub scale: f64,
    pub offset: f64,
}

/// One head of a [`branched`] network: the layers of a branch (sine and
/// residual layers, then one linear layer) and the outputs wanted of it.
pub struct BranchRequest<'a> {
    pub layers: &'a [Layer],
    pub outputs: &'a [OutputMap],
}

/// `model` prepared to produce `outputs`, in that order.
pub fn residual_siren(model: &ResidualSiren, outputs: &[OutputMap]) -> Plan {
    // The trunk is every layer, the one head only the trunk's linear layer.
    branched(
        model.inputs,
        &model.layers,
        &[BranchRequest {
            layers: &[],
            outputs,
        }],
    )
}

/// A network of a `trunk` shared by every head, then the heads. The trunk's
/// layers before its first linear layer are the shared part; a head without
/// layers of its own ends with that linear layer (a residual SIREN), the
/// others (a branched network's branches) with their own last layer, which
/// must be linear. The outputs are the heads' in order.
pub fn branched(inputs: usize, trunk: &[Layer], heads: &[BranchRequest]) -> Plan {
    let shared = trunk
        .iter()
        .position(|l| matches!(l, Layer::Linear { .. }))
        .unwrap_or(trunk.len());
    let heads = heads
        .iter()
        .map(|h| {
            let (hidden, last) = match h.layers.split_last() {
                Some((last, hidden)) => (hidden, Some(last)),
                None => (&[][..], trunk.get(shared)),
            };
            let linear = match last {
                Some(Layer::Linear { dense }) => select_rows(dense, h.outputs),
                // The models' loaders guarantee a linear last layer; without
                // one the head gives nothing.
                _ => Matrix {
                    out_features: 0,
                    in_features: 0,
                    weight: Vec::new(),
                    bias: Vec::new(),
                },
            };
            Head {
                steps: steps(hidden),
                linear,
            }
        })
        .collect();
    Plan::new(inputs, steps(&trunk[..shared]), heads)
}

/// The layers as evaluation steps, `w0` folded into the weights; linear
/// layers are heads'.
pub(crate) fn steps(layers: &[Layer]) -> Vec<Step> {
    let scaled = |d: &Dense, w0: f32| Matrix {
        out_features: d.out_features,
        in_features: d.in_features,
        weight: d.weight.iter().map(|w| w * w0).collect(),
        bias: d.bias.iter().map(|b| b * w0).collect(),
    };
    layers
        .iter()
        .filter_map(|l| match l {
            Layer::Sine { w0, dense } => Some(Step::Sine(scaled(dense, *w0))),
            Layer::ResidualSine { w0, first, second } => {
                Some(Step::Residual(scaled(first, w0[0]), scaled(second, w0[1])))
            }
            Layer::Linear { .. } => None,
        })
        .collect()
}

/// The head's rows for the requested outputs, scaled to physical units:
/// `scale * (w . x + b) + offset = (scale w) . x + (scale b + offset)`.
fn select_rows(d: &Dense, outputs: &[OutputMap]) -> Matrix {
    let mut weight = Vec::with_capacity(outputs.len() * d.in_features);
    let mut bias = Vec::with_capacity(outputs.len());
    for o in outputs {
        let row = &d.weight[o.index * d.in_features..(o.index + 1) * d.in_features];
        weight.extend(row.iter().map(|&w| (w as f64 * o.scale) as f32));
        bias.push((d.bias[o.index] as f64 * o.scale + o.offset) as f32);
    }
    Matrix {
        out_features: outputs.len(),
        in_features: d.in_features,
        weight,
        bias,
    }
}

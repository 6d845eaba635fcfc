//! The MC-INR family: the domain cut into spatial clusters (k-means over the
//! points, clusters with a high error split again into two), one branched
//! network per final cluster, and optional blending of the two networks on
//! either side of a cluster border so that values do not jump there.
//!
//! Each cluster's network is a CoordNetB: a trunk shared by all variables
//! (the global feature extractor: a sine layer, then residual sine blocks)
//! and one branch per variable (the local feature extractor: residual sine
//! blocks and a linear layer with the variable's components). The cluster
//! tree is in the metadata; each leaf's weights are in their own section, so
//! that a reader could read only the clusters it needs.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format::limits;
use crate::format::metadata::Metadata;
use crate::format::section::Compression;
use crate::format::InrFile;
use crate::format::{FileBuilder, WeightEncoding};
use crate::model::model_parts;

use super::residual_siren::{layer_tensors, load_layer, write_layers, LayerMeta};
use super::shared_codebook::SharedTables;
use super::Layer;

/// Most nodes of a cluster tree.
pub const MAX_NODES: usize = 1 << 20;

/// The family's metadata, as stored under `"model"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McInrMeta {
    /// 3 for (x, y, z), 4 for (x, y, z, t).
    pub inputs: u32,
    /// Width of the blending band across cluster borders, in domain units
    /// (absent or 0: no blending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blend_width: Option<f64>,
    pub nodes: Vec<NodeMeta>,
}

/// One node of the cluster tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeMeta {
    pub centroid: [f64; 3],
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<u32>,
    /// Present exactly on leaves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkMeta>,
}

/// A leaf's CoordNetB in the metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkMeta {
    pub input_scale: Vec<f64>,
    pub input_shift: Vec<f64>,
    pub trunk: Vec<LayerMeta>,
    pub branches: Vec<Vec<LayerMeta>>,
}

/// A loaded CoordNetB.
#[derive(Clone, Debug, PartialEq)]
pub struct CoordNetB {
    /// Per input, `x_n = scale * x + shift` (the cluster's own box).
    pub input_scale: Vec<f64>,
    pub input_shift: Vec<f64>,
    /// A sine layer, then residual sine blocks.
    pub trunk: Vec<Layer>,
    /// Per variable: sine or residual sine layers, then one linear layer.
    pub branches: Vec<Vec<Layer>>,
}

/// The cluster tree: where a point goes.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterTree {
    pub centroids: Vec<[f64; 3]>,
    /// Children of each node, in index order (none for a leaf).
    pub children: Vec<Vec<u32>>,
    pub roots: Vec<u32>,
    /// The leaf number of each node (`None` for inner nodes).
    pub leaf: Vec<Option<u32>>,
}

/// Most networks that contribute to one point's value (near a corner where
/// several clusters meet); beyond it the smallest weights are dropped.
pub const MAX_PARTS: usize = 8;

/// Where a point's value comes from: the leaf it is routed to, and with
/// blending the leaves of the neighbouring clusters within the band, each
/// with its weight (the weights sum to 1; the routed leaf comes first).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Route {
    pub parts: [(u32, f32); MAX_PARTS],
    pub len: usize,
}

impl Route {
    /// The routed leaf alone.
    pub fn single(leaf: u32) -> Route {
        let mut parts = [(0, 0.0); MAX_PARTS];
        parts[0] = (leaf, 1.0);
        Route { parts, len: 1 }
    }

    /// The leaf the point is routed to.
    pub fn leaf(&self) -> u32 {
        self.parts[0].0
    }

    /// The contributing leaves and their weights.
    pub fn parts(&self) -> &[(u32, f32)] {
        &self.parts[..self.len]
    }
}

/// A loaded, validated MC-INR model.
#[derive(Clone, Debug, PartialEq)]
pub struct McInr {
    pub inputs: usize,
    pub blend_width: f64,
    pub tree: ClusterTree,
    /// The leaves' networks, by leaf number (leaves in node order).
    pub leaves: Vec<CoordNetB>,
}

impl McInrMeta {
    /// Parses the `"model"` object.
    pub fn from_value(v: &serde_json::Value) -> Result<Self> {
        serde_json::from_value(v.clone()).map_err(|e| Error::Invalid(format!("mc_inr model: {e}")))
    }

    /// Every section the weights live in.
    pub fn sections_used(&self) -> Vec<u32> {
        let mut s: Vec<u32> = self
            .networks()
            .flat_map(network_tensors)
            .flat_map(|t| t.sections())
            .collect();
        s.sort_unstable();
        s.dedup();
        s
    }

    fn networks(&self) -> impl Iterator<Item = &NetworkMeta> {
        self.nodes.iter().filter_map(|n| n.network.as_ref())
    }
}

fn network_tensors(n: &NetworkMeta) -> Vec<&crate::format::tensor::TensorRef> {
    let mut t = layer_tensors(&n.trunk);
    for b in &n.branches {
        t.extend(layer_tensors(b));
    }
    t
}

impl ClusterTree {
    /// The tree of nodes at `centroids` with these `parents` (each before
    /// its children; leaves are the nodes without children, numbered in
    /// node order). For encoders, which build the tree as they split.
    pub fn from_parents(centroids: &[[f64; 3]], parents: &[Option<u32>]) -> Result<ClusterTree> {
        let mut nodes: Vec<NodeMeta> = centroids
            .iter()
            .zip(parents)
            .map(|(&centroid, &parent)| NodeMeta {
                centroid,
                parent,
                network: None,
            })
            .collect();
        let mut has_children = vec![false; nodes.len()];
        for p in parents.iter().flatten() {
            if let Some(h) = has_children.get_mut(*p as usize) {
                *h = true;
            }
        }
        for (n, &inner) in nodes.iter_mut().zip(&has_children) {
            if !inner {
                n.network = Some(NetworkMeta {
                    input_scale: Vec::new(),
                    input_shift: Vec::new(),
                    trunk: Vec::new(),
                    branches: Vec::new(),
                });
            }
        }
        ClusterTree::new(&nodes)
    }

    /// The tree of `nodes`: parents before children, inner nodes with at
    /// least two children and no network, leaves with one.
    fn new(nodes: &[NodeMeta]) -> Result<ClusterTree> {
        if nodes.is_empty() || nodes.len() > MAX_NODES {
            return Err(Error::Invalid(format!(
                "{} cluster nodes (must be 1..={MAX_NODES})",
                nodes.len()
            )));
        }
        let mut children = vec![Vec::new(); nodes.len()];
        let mut roots = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            if n.centroid.iter().any(|c| !c.is_finite()) {
                return Err(Error::Invalid(format!("cluster {i}: non-finite centroid")));
            }
            match n.parent {
                None => roots.push(i as u32),
                Some(p) if (p as usize) < i => children[p as usize].push(i as u32),
                Some(p) => {
                    return Err(Error::Invalid(format!(
                        "cluster {i}: parent {p} does not come before it"
                    )))
                }
            }
        }
        let mut leaf = vec![None; nodes.len()];
        let mut leaves = 0u32;
        for (i, n) in nodes.iter().enumerate() {
            match (children[i].len(), n.network.is_some()) {
                (0, true) => {
                    leaf[i] = Some(leaves);
                    leaves += 1;
                }
                (0, false) => {
                    return Err(Error::Invalid(format!(
                        "cluster {i}: a leaf without a network"
                    )))
                }
                (1, _) => return Err(Error::Invalid(format!("cluster {i} has a single child"))),
                (_, true) => {
                    return Err(Error::Invalid(format!(
                        "cluster {i} has children and a network"
                    )))
                }
                _ => {}
            }
        }
        Ok(ClusterTree {
            centroids: nodes.iter().map(|n| n.centroid).collect(),
            children,
            roots,
            leaf,
        })
    }

    /// The nearest of `candidates` to `p` (ties to the first) and the
    /// runner-up.
    fn nearest(&self, candidates: &[u32], p: [f64; 3]) -> (u32, Option<u32>) {
        let d2 = |n: u32| {
            let c = self.centroids[n as usize];
            (0..3).map(|a| (p[a] - c[a]) * (p[a] - c[a])).sum::<f64>()
        };
        let (mut best, mut second) = ((candidates[0], d2(candidates[0])), None::<(u32, f64)>);
        for &n in &candidates[1..] {
            let d = d2(n);
            if d < best.1 {
                second = Some(best);
                best = (n, d);
            } else if second.is_none_or(|s| d < s.1) {
                second = Some((n, d));
            }
        }
        (best.0, second.map(|s| s.0))
    }

    /// Follows the nearest child from `node` down to a leaf.
    fn descend(&self, mut node: u32, p: [f64; 3]) -> u32 {
        while !self.children[node as usize].is_empty() {
            node = self.nearest(&self.children[node as usize], p).0;
        }
        node
    }

    /// The leaf `p` is routed to: the nearest root, then the nearest child
    /// down to a leaf (docs/format.md, section 10.3).
    pub fn leaf_of(&self, p: [f64; 3]) -> u32 {
        let root = self.nearest(&self.roots, p).0;
        self.leaf[self.descend(root, p) as usize].unwrap_or(0)
    }

    /// The route of `p`. With a blend width `w > 0`, every set of siblings
    /// (the roots, the children of a node) shares the value of its level by
    /// a partition of unity: sibling `s` at distance `d_s` from `p`, `d_min`
    /// the nearest sibling's, weighs `phi((d_s - d_min) / w)` with
    /// `phi(x) = 1 - 3x^2 + 2x^3` on [0, 1] and 0 beyond, the weights
    /// normalized to sum 1; an inner node's value is its children's blend.
    /// Every weight is continuous in `p`, so the blend is: no jump at a
    /// border, and the routed leaf alone wherever the others are `w` or
    /// more farther away.
    pub fn route(&self, p: [f64; 3], blend_width: f64) -> Route {
        if blend_width <= 0.0 {
            return Route::single(self.leaf_of(p));
        }
        let mut parts: Vec<(u32, f64)> = Vec::new();
        self.blend(&self.roots, 1.0, p, blend_width, &mut parts);
        // The routed leaf first, then by weight; at most MAX_PARTS.
        let routed = self.leaf_of(p);
        parts.sort_by(|a, b| {
            (b.0 == routed)
                .cmp(&(a.0 == routed))
                .then(b.1.total_cmp(&a.1))
                .then(a.0.cmp(&b.0))
        });
        parts.truncate(MAX_PARTS);
        let total: f64 = parts.iter().map(|x| x.1).sum();
        let mut route = Route::single(routed);
        route.len = parts.len();
        for (slot, &(leaf, w)) in route.parts.iter_mut().zip(&parts) {
            *slot = (leaf, (w / total) as f32);
        }
        route
    }

    /// Adds the leaves under `siblings` with their weights times `weight`.
    fn blend(&self, siblings: &[u32], weight: f64, p: [f64; 3], w: f64, out: &mut Vec<(u32, f64)>) {
        let d: Vec<f64> = siblings.iter().map(|&n| self.distance(n, p)).collect();
        let nearest = d.iter().copied().fold(f64::INFINITY, f64::min);
        let mut weights: Vec<f64> = d.iter().map(|&ds| phi((ds - nearest) / w)).collect();
        let total: f64 = weights.iter().sum();
        weights.iter_mut().for_each(|x| *x /= total);
        for (&n, &ws) in siblings.iter().zip(&weights) {
            // Contributions too small to matter are left out.
            if ws * weight < 1e-6 {
                continue;
            }
            match self.leaf[n as usize] {
                Some(l) => out.push((l, ws * weight)),
                None => self.blend(&self.children[n as usize], ws * weight, p, w, out),
            }
        }
    }

    fn distance(&self, n: u32, p: [f64; 3]) -> f64 {
        let c = self.centroids[n as usize];
        (0..3)
            .map(|a| (p[a] - c[a]) * (p[a] - c[a]))
            .sum::<f64>()
            .sqrt()
    }
}

/// The blending weight of a sibling `x` band widths farther than the
/// nearest: 1 at 0, 0 from 1 on, smooth (zero slope) at both ends.
fn phi(x: f64) -> f64 {
    if x <= 0.0 {
        1.0
    } else if x >= 1.0 {
        0.0
    } else {
        1.0 - x * x * (3.0 - 2.0 * x)
    }
}

impl CoordNetB {
    /// Loads a leaf's network and checks its shapes against `inputs` and the
    /// variables' components.
    fn load<'a>(
        meta: &NetworkMeta,
        inputs: usize,
        components: &[usize],
        section: &dyn Fn(u32) -> Result<&'a [u8]>,
    ) -> Result<CoordNetB> {
        if meta.input_scale.len() != inputs || meta.input_shift.len() != inputs {
            return Err(Error::Shape(format!(
                "{} scales and {} shifts for {inputs} inputs",
                meta.input_scale.len(),
                meta.input_shift.len()
            )));
        }
        super::normalization::check_finite(&meta.input_scale, &meta.input_shift)?;
        if meta.branches.len() != components.len() {
            return Err(Error::Shape(format!(
                "{} branches for {} variables",
                meta.branches.len(),
                components.len()
            )));
        }
        let layers = |l: &[LayerMeta]| -> Result<Vec<Layer>> {
            if l.is_empty() || l.len() > limits::MAX_LAYERS {
                return Err(Error::Invalid(format!(
                    "{} layers (must be 1..={})",
                    l.len(),
                    limits::MAX_LAYERS
                )));
            }
            l.iter().map(|m| load_layer(m, section)).collect()
        };
        let trunk = layers(&meta.trunk)?;
        let width = check_chain(&trunk, inputs, false, "trunk")?;
        if !matches!(trunk.first(), Some(Layer::Sine { .. })) {
            return Err(Error::Invalid(
                "the trunk must begin with a sine layer".into(),
            ));
        }
        let branches = meta
            .branches
            .iter()
            .zip(components)
            .enumerate()
            .map(|(v, (b, &c))| {
                let branch = layers(b)?;
                let out = check_chain(&branch, width, true, &format!("branch {v}"))?;
                if out != c {
                    return Err(Error::Shape(format!(
                        "branch {v} has {out} outputs, its variable {c} components"
                    )));
                }
                Ok(branch)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(CoordNetB {
            input_scale: meta.input_scale.clone(),
            input_shift: meta.input_shift.clone(),
            trunk,
            branches,
        })
    }

    /// Number of parameters.
    pub fn parameter_count(&self) -> u64 {
        self.trunk
            .iter()
            .chain(self.branches.iter().flatten())
            .map(Layer::parameter_count)
            .sum()
    }

    /// Width of the trunk's features.
    pub fn width(&self) -> usize {
        self.trunk.last().map_or(0, |l| l.features().1)
    }
}

/// Checks that `layers` chain from `inputs` features, with a linear layer
/// last and only there (`linear_last`) or nowhere; returns the output width.
fn check_chain(layers: &[Layer], inputs: usize, linear_last: bool, what: &str) -> Result<usize> {
    let mut width = inputs;
    for (i, layer) in layers.iter().enumerate() {
        let (inp, out) = layer.features();
        if inp != width {
            return Err(Error::Shape(format!(
                "{what}: layer {i} takes {inp} inputs, the previous gives {width}"
            )));
        }
        if let Layer::ResidualSine { first, second, .. } = layer {
            if first.out_features != inp || second.in_features != inp || second.out_features != inp
            {
                return Err(Error::Shape(format!(
                    "{what}: residual block {i} is not square"
                )));
            }
        }
        let last = i + 1 == layers.len();
        if matches!(layer, Layer::Linear { .. }) != (linear_last && last) {
            return Err(Error::Invalid(format!(
                "{what}: {}",
                if linear_last {
                    "the last layer, and only it, must be linear"
                } else {
                    "no layer may be linear"
                }
            )));
        }
        width = out;
    }
    Ok(width)
}

impl McInr {
    /// Loads the tree and every leaf's weights, checking them against the
    /// file's variables and time axis.
    pub fn load<'a>(
        meta: &McInrMeta,
        file_meta: &Metadata,
        section: &dyn Fn(u32) -> Result<&'a [u8]>,
    ) -> Result<McInr> {
        if !(meta.inputs == 3 || meta.inputs == 4) {
            return Err(Error::Shape(format!(
                "{} inputs (3 or 4 expected)",
                meta.inputs
            )));
        }
        if meta.inputs == 4 && file_meta.time.is_none() {
            return Err(Error::Invalid(
                "a 4-input (x, y, z, t) model without a time axis".into(),
            ));
        }
        let blend_width = meta.blend_width.unwrap_or(0.0);
        if !(blend_width.is_finite() && blend_width >= 0.0) {
            return Err(Error::Invalid(format!("blend_width {blend_width}")));
        }
        let tree = ClusterTree::new(&meta.nodes)?;
        let total: u64 = meta
            .networks()
            .flat_map(network_tensors)
            .map(|t| t.numel())
            .sum::<Result<u64>>()?;
        if total > limits::MAX_PARAMETERS {
            return Err(Error::LimitExceeded(format!(
                "{total} parameters, limit {}",
                limits::MAX_PARAMETERS
            )));
        }
        let components: Vec<usize> = file_meta
            .variables
            .iter()
            .map(|v| v.components as usize)
            .collect();
        let leaves = meta
            .networks()
            .enumerate()
            .map(|(i, n)| {
                CoordNetB::load(n, meta.inputs as usize, &components, section)
                    .map_err(|e| Error::Invalid(format!("cluster network {i}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(McInr {
            inputs: meta.inputs as usize,
            blend_width,
            tree,
            leaves,
        })
    }

    /// Number of parameters of all leaves.
    pub fn parameter_count(&self) -> u64 {
        self.leaves.iter().map(CoordNetB::parameter_count).sum()
    }

    /// Where the value at `p` comes from.
    pub fn route(&self, p: [f64; 3]) -> Route {
        self.tree.route(p, self.blend_width)
    }

    /// Adds every leaf's weights to a file being written, each leaf in its
    /// own section, and returns the `"model"` value.
    pub fn write(
        &self,
        builder: &mut FileBuilder,
        encoding: WeightEncoding,
    ) -> Result<serde_json::Value> {
        let mut nodes = Vec::with_capacity(self.tree.centroids.len());
        let parents = self.parents();
        // Codebooks are shared by all clusters (a table per tensor would
        // outweigh a small network's tensors): a section of their own.
        let shared = match encoding {
            WeightEncoding::Codebook { bits, .. } => {
                let section = builder.new_section("codebooks", Compression::Zstd);
                Some(SharedTables::write(builder, section, &self.leaves, bits))
            }
            _ => None,
        };
        for (i, &centroid) in self.tree.centroids.iter().enumerate() {
            let network = match self.tree.leaf[i] {
                Some(l) => {
                    let net = &self.leaves[l as usize];
                    let section = builder.new_section(&format!("cluster {l}"), Compression::Zstd);
                    let mut write = |layers: &[Layer], trunk: bool| match &shared {
                        Some(t) => t.write_layers(builder, section, layers, trunk),
                        None => write_layers(builder, section, layers, encoding),
                    };
                    Some(NetworkMeta {
                        input_scale: net.input_scale.clone(),
                        input_shift: net.input_shift.clone(),
                        trunk: write(&net.trunk, true)?,
                        branches: net
                            .branches
                            .iter()
                            .map(|b| write(b, false))
                            .collect::<Result<_>>()?,
                    })
                }
                None => None,
            };
            nodes.push(NodeMeta {
                centroid,
                parent: parents[i],
                network,
            });
        }
        let meta = McInrMeta {
            inputs: self.inputs as u32,
            blend_width: (self.blend_width > 0.0).then_some(self.blend_width),
            nodes,
        };
        let mut v = serde_json::to_value(meta).map_err(|e| Error::Invalid(e.to_string()))?;
        v["family"] = serde_json::Value::from(super::FAMILY_MC_INR);
        Ok(v)
    }

    /// The parent of each node.
    fn parents(&self) -> Vec<Option<u32>> {
        let mut parents = vec![None; self.tree.centroids.len()];
        for (p, kids) in self.tree.children.iter().enumerate() {
            for &k in kids {
                parents[k as usize] = Some(p as u32);
            }
        }
        parents
    }
}

impl McInr {
    /// Loads and validates the MC-INR model of an open file.
    pub fn from_file(file: &InrFile) -> Result<McInr> {
        let (m, sections) = model_parts(file, McInrMeta::from_value, McInrMeta::sections_used)?;
        McInr::load(&m, file.metadata(), &|i| sections.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(c: [f64; 3], parent: Option<u32>, leaf: bool) -> NodeMeta {
        NodeMeta {
            centroid: c,
            parent,
            network: leaf.then(|| NetworkMeta {
                input_scale: vec![],
                input_shift: vec![],
                trunk: vec![],
                branches: vec![],
            }),
        }
    }

    /// Two roots at x = 0 and x = 4; the second split at y = -1 / y = +1.
    fn tree() -> ClusterTree {
        ClusterTree::new(&[
            node([0.0, 0.0, 0.0], None, true),
            node([4.0, 0.0, 0.0], None, false),
            node([4.0, -1.0, 0.0], Some(1), true),
            node([4.0, 1.0, 0.0], Some(1), true),
        ])
        .unwrap()
    }

    #[test]
    fn routes_to_the_nearest_leaf_down_the_tree() {
        let t = tree();
        assert_eq!(t.leaf, [Some(0), None, Some(1), Some(2)]);
        assert_eq!(t.route([-3.0, 5.0, 0.0], 0.0).leaf(), 0);
        assert_eq!(t.route([5.0, -0.5, 1.0], 0.0).leaf(), 1);
        assert_eq!(t.route([3.0, 0.5, 0.0], 0.0).leaf(), 2);
        // Ties go to the lower index: x = 2 is on the roots' bisector.
        assert_eq!(t.route([2.0, 0.0, 0.0], 0.0).leaf(), 0);
        assert_eq!(t.route([1.0, 0.0, 0.0], 0.0).parts(), [(0, 1.0)]);
    }

    #[test]
    fn blending_weights_are_a_partition_of_unity_that_meets_at_the_border() {
        let t = tree();
        let w = 1.0;
        // Far from every border: the routed leaf alone.
        assert_eq!(t.route([-2.0, 0.0, 0.0], w).parts(), [(0, 1.0)]);
        // On the roots' bisector (x = 2, y = -3: below the second root's
        // children's border): one half each.
        let r = t.route([2.0, -3.0, 0.0], w);
        assert_eq!(r.leaf(), 0);
        let parts = r.parts();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].0, 1);
        assert!((parts[0].1 - 0.5).abs() < 1e-6 && (parts[1].1 - 0.5).abs() < 1e-6);
        // Weights sum to 1 everywhere and change continuously.
        let mut last: Option<[f64; 3]> = None;
        for i in 0..=4000 {
            let x = i as f64 / 1000.0;
            let r = t.route([x, 0.3, 0.0], w);
            let sum: f32 = r.parts().iter().map(|p| p.1).sum();
            assert!((sum - 1.0).abs() < 1e-6);
            let mut by_leaf = [0.0f64; 3];
            for &(l, wt) in r.parts() {
                by_leaf[l as usize] = wt as f64;
            }
            if let Some(prev) = last {
                let step = (0..3)
                    .map(|k| (by_leaf[k] - prev[k]).abs())
                    .fold(0.0, f64::max);
                assert!(
                    step < 0.01,
                    "weights jump at x = {x}: {prev:?} -> {by_leaf:?}"
                );
            }
            last = Some(by_leaf);
        }
    }

    #[test]
    fn malformed_trees_are_rejected() {
        let bad = |nodes: Vec<NodeMeta>| ClusterTree::new(&nodes).unwrap_err().to_string();
        assert!(bad(vec![]).contains("0 cluster nodes"));
        assert!(bad(vec![node([0.0; 3], None, false)]).contains("without a network"));
        assert!(bad(vec![
            node([0.0; 3], None, false),
            node([1.0; 3], Some(0), true)
        ])
        .contains("single child"));
        assert!(bad(vec![node([0.0; 3], Some(0), true)]).contains("does not come before"));
        assert!(bad(vec![
            node([0.0; 3], None, true),
            node([1.0; 3], Some(0), true),
            node([2.0; 3], Some(0), true)
        ])
        .contains("children and a network"));
        assert!(bad(vec![node([f64::NAN, 0.0, 0.0], None, true)]).contains("non-finite"));
    }
}

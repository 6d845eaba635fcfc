//! `inr info`: what a file holds, how big its network is and how much
//! smaller it is than the raw data it stands for.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use inr_core::decode::Decoder;
use inr_core::error::{Error, Result};
use inr_core::format::{Association, Domain, InrFile, Metadata};
use inr_core::model::ecnr::EMPTY;
use inr_core::model::{Ecnr, McInr};

pub const ABOUT: &str = "Describe an .inr file: domain, time steps, variables, model, size";

pub const LONG_ABOUT: &str = "\
Describe an .inr file: its format version and generator, the domain (grid
dims, origin and spacing, or mesh sizes) and bounds, the time steps, the
variables with their value ranges, the model and its parameter count, the
stored sections and the compression ratio against the raw float32 data.

If the model cannot be loaded (a family this version does not implement),
everything else is still printed, followed by the reason, and the exit
status is 1.

With --json, prints the file's metadata block as pretty JSON instead.

Example:
  inr info run42.inr
  inr info run42.inr --json | jq '.variables[].name'";

/// Arguments of `inr info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The .inr file.
    pub file: PathBuf,
    /// Print the metadata as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// Prints the summary (or the JSON); fails after printing when the model
/// cannot be decoded, so scripts notice.
pub fn run(args: &InfoArgs) -> Result<()> {
    let file = InrFile::open(&args.file)?;
    if args.json {
        let json = serde_json::to_string_pretty(file.metadata())
            .map_err(|e| Error::Invalid(format!("metadata serialization: {e}")))?;
        return super::print_out(&(json + "\n"));
    }
    let decoder = Decoder::open(&args.file);
    super::print_out(&summary(&args.file, &file, decoder.as_ref().ok()))?;
    decoder.map(|_| ())
}

/// The whole report. `decoder` is `None` when the model cannot be loaded;
/// the lines that need it say so.
fn summary(path: &Path, file: &InrFile, decoder: Option<&Decoder>) -> String {
    let meta = file.metadata();
    let header = file.header();
    let mut s = String::new();
    line(
        &mut s,
        "file",
        &format!(
            "{}, {}",
            path.display(),
            super::format_bytes(file.file_len().into())
        ),
    );
    line(
        &mut s,
        "format",
        &format!(".inr {}.{}", header.major, header.minor),
    );
    line(&mut s, "generator", &meta.generator);
    domain_lines(&mut s, &meta.domain, decoder);
    match bounds(&meta.domain, decoder) {
        Some(b) => line(&mut s, "bounds", &format_bounds(&b)),
        None => line(&mut s, "bounds", "unknown (the domain cannot be decoded)"),
    }
    line(&mut s, "time steps", &time_steps(meta));
    variables_lines(&mut s, meta);
    line(&mut s, "model", &model_description(meta, decoder));
    if let Some(text) = decoder.and_then(clusters_description) {
        line(&mut s, "clusters", &text);
    }
    if let Some(text) = decoder.and_then(scales_description) {
        line(&mut s, "scales", &text);
    }
    if let Some(text) = bound_description(meta) {
        line(&mut s, "error bound", &text);
    }
    let stored: u64 = meta.sections.iter().map(|e| e.stored_length).sum();
    line(
        &mut s,
        "sections",
        &format!(
            "{}, {} stored",
            meta.sections.len(),
            super::format_bytes(stored.into())
        ),
    );
    let mesh = meta.mesh_bytes();
    if mesh > 0 {
        line(
            &mut s,
            "mesh bytes",
            &format!("{mesh} (stored exactly: points, cells, types)"),
        );
        line(
            &mut s,
            "model bytes",
            &format!("{} (the file less its mesh)", file.file_len() - mesh),
        );
        line(
            &mut s,
            "compression",
            &format!(
                "{} model only; {} whole file",
                compression(meta, file.file_len() - mesh),
                compression(meta, file.file_len())
            ),
        );
    } else {
        line(&mut s, "compression", &compression(meta, file.file_len()));
    }
    for (key, value) in &meta.attributes {
        line(&mut s, &format!("attribute {key}"), value);
    }
    s
}

/// The guaranteed largest error of an error-bounded file, per variable
/// (per component when they differ), and what its corrections take.
fn bound_description(meta: &Metadata) -> Option<String> {
    let c = meta.corrections.as_ref()?;
    let per_variable: Vec<String> = meta
        .variables
        .iter()
        .zip(&c.bound)
        .map(|(v, b)| match b.iter().all(|&x| x == b[0]) {
            true => format!("{} {:.4e}", v.name, b[0]),
            false => {
                let each: Vec<String> = b.iter().map(|x| format!("{x:.4e}")).collect();
                format!("{} [{}]", v.name, each.join(", "))
            }
        })
        .collect();
    let bytes: u64 = c
        .sections
        .iter()
        .filter_map(|&i| meta.sections.get(i as usize))
        .map(|e| e.stored_length)
        .sum();
    Some(format!(
        "{} at every stored site and time step (corrections: {}); elsewhere the network's value",
        per_variable.join(", "),
        super::format_bytes(bytes.into())
    ))
}

/// One `key:  value` line with the values aligned.
fn line(s: &mut String, key: &str, value: &str) {
    let _ = writeln!(s, "{:<13}{value}", format!("{key}:"));
}

/// Grid geometry or mesh sizes, whatever the domain kind stores.
fn domain_lines(s: &mut String, domain: &Domain, decoder: Option<&Decoder>) {
    line(s, "domain", domain.kind_name());
    match domain {
        Domain::Image {
            dims,
            origin,
            spacing,
        } => {
            line(s, "dims", &dims_with_counts(dims));
            line(s, "origin", &format!("({})", super::join(origin, ", ")));
            line(s, "spacing", &format!("({})", super::join(spacing, ", ")));
        }
        Domain::Rectilinear { dims, .. } => {
            line(s, "dims", &dims_with_counts(dims));
            let axes = decoder
                .and_then(|d| d.native_grid())
                .map(|g| g.axes.clone());
            for (a, name) in ["x axis", "y axis", "z axis"].into_iter().enumerate() {
                let text = match &axes {
                    Some(axes) => format!("{} .. {}", axes[a][0], axes[a][axes[a].len() - 1]),
                    None => "not read (the file cannot be decoded)".into(),
                };
                line(s, name, &text);
            }
        }
        Domain::Unstructured {
            num_points,
            num_cells,
            ..
        } => {
            line(s, "points", &num_points.to_string());
            line(s, "cells", &num_cells.to_string());
        }
        Domain::Images {
            width,
            height,
            views,
            parameters,
        } => {
            line(s, "image size", &format!("{width} x {height}"));
            line(
                s,
                "views",
                &format!(
                    "{} over ({})",
                    view_count(views.count, parameters),
                    parameters.join(", ")
                ),
            );
        }
    }
}

/// `24 x 20 x 16 (7680 points, 6555 cells)`.
fn dims_with_counts(dims: &[u64; 3]) -> String {
    let (points, cells) = (
        grid_tuples(dims, Association::Point),
        grid_tuples(dims, Association::Cell),
    );
    format!(
        "{} ({points} points, {cells} cells)",
        super::format_dims(dims)
    )
}

/// Points or cells of a structured grid; as in VTK an axis of one point
/// has one cell.
fn grid_tuples(dims: &[u64; 3], association: Association) -> u128 {
    dims.iter()
        .map(|&d| match association {
            Association::Point => d as u128,
            Association::Cell => d.saturating_sub(1).max(1) as u128,
        })
        .product()
}

/// Views of an image collection: `count` view parameter values, one per
/// parameter per view.
fn view_count(count: u64, parameters: &[String]) -> u64 {
    count / parameters.len().max(1) as u64
}

/// The decoder's bounds, or those the metadata states directly (an image's
/// follow from origin and spacing, a mesh stores them).
fn bounds(domain: &Domain, decoder: Option<&Decoder>) -> Option<[f64; 6]> {
    if let Some(d) = decoder {
        return Some(d.bounds());
    }
    match domain {
        Domain::Image {
            dims,
            origin,
            spacing,
        } => Some(std::array::from_fn(|i| {
            let a = i / 2;
            origin[a]
                + if i % 2 == 1 {
                    (dims[a] - 1) as f64 * spacing[a]
                } else {
                    0.0
                }
        })),
        Domain::Unstructured { bounds, .. } => Some(*bounds),
        _ => None,
    }
}

/// `x [-1.5, 10], y [0.25, 5], z [10, 40]`.
fn format_bounds(b: &[f64; 6]) -> String {
    format!(
        "x [{}, {}], y [{}, {}], z [{}, {}]",
        b[0], b[1], b[2], b[3], b[4], b[5]
    )
}

/// `3 (0 .. 2): 0, 0.5, 2`; the values only when there are few.
fn time_steps(meta: &Metadata) -> String {
    let Some(axis) = &meta.time else {
        return "1 (static)".into();
    };
    let v = &axis.values;
    let mut text = format!("{} ({} .. {})", v.len(), v[0], v[v.len() - 1]);
    if v.len() <= 10 {
        let _ = write!(text, ": {}", super::join(v, ", "));
    }
    text
}

/// The count line and an aligned table of the variables.
fn variables_lines(s: &mut String, meta: &Metadata) {
    line(s, "variables", &meta.variables.len().to_string());
    let mut rows = vec![["name", "comp", "assoc", "units", "range"].map(String::from)];
    for v in &meta.variables {
        let ranges: Vec<String> = v
            .range
            .iter()
            .map(|r| format!("[{}, {}]", r[0], r[1]))
            .collect();
        let association = match v.association {
            Association::Point => "point",
            Association::Cell => "cell",
        };
        let units = v.units.clone().unwrap_or_else(|| "-".into());
        rows.push([
            v.name.clone(),
            v.components.to_string(),
            association.into(),
            units,
            ranges.join(" "),
        ]);
    }
    let widths: [usize; 4] =
        std::array::from_fn(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0));
    for r in &rows {
        let _ = writeln!(
            s,
            "  {:<w0$}  {:>w1$}  {:<w2$}  {:<w3$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        );
    }
}

/// `residual_siren: 4 inputs, width 16, 2 residual blocks, 5 outputs;
/// 1445 parameters, 2144 GEMM FLOP per point`.
fn model_description(meta: &Metadata, decoder: Option<&Decoder>) -> String {
    let family = match meta.model_family() {
        "" => "(no family)",
        f => f,
    };
    let Some(decoder) = decoder else {
        return format!("{family}: cannot be loaded (see the error below)");
    };
    let model = decoder.model();
    let mut text = format!("{family}: {}; ", model.family().describe());
    let _ = write!(text, "{} parameters", model.parameter_count());
    if let Ok(flops) = decoder.gemm_flops_per_point(&[]) {
        let _ = write!(text, ", {flops} GEMM FLOP per point");
    }
    text
}

/// Per cluster of a clustered model: its parameters and, for a mesh, how
/// many stored points it holds (`#leaf: points / parameters`).
fn clusters_description(decoder: &Decoder) -> Option<String> {
    let m = decoder.model().get::<McInr>()?;
    let mut points = vec![0usize; m.leaves.len()];
    let counted = decoder.mesh().ok().map(|mesh| {
        for p in mesh.points.chunks_exact(3) {
            points[m.tree.leaf_of([p[0], p[1], p[2]]) as usize] += 1;
        }
    });
    let items: Vec<String> = m
        .leaves
        .iter()
        .zip(&points)
        .enumerate()
        .map(|(i, (leaf, &n))| match counted {
            Some(()) => format!("#{i}: {n} points / {} parameters", leaf.parameter_count()),
            None => format!("#{i}: {} parameters", leaf.parameter_count()),
        })
        .collect();
    Some(items.join(", "))
}

/// Per scale of a multiscale (ECNR) model, coarsest first (`--detail K`
/// decodes the first K): its factor, samples, blocks and MLPs, as
/// `#1: factor 4, 6 x 4 x 3 x 2 samples, 8 blocks (2 empty), 3 MLPs, 1200
/// parameters`.
fn scales_description(decoder: &Decoder) -> Option<String> {
    let m = decoder.model().get::<Ecnr>()?;
    let items: Vec<String> = m
        .scales
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let empty = s.assignment.iter().filter(|&&q| q == EMPTY).count();
            format!(
                "#{}: factor {}, {} samples, {} blocks ({empty} empty), {} MLPs, {} parameters",
                i + 1,
                s.factor,
                super::format_dims(&s.dims),
                s.assignment.len(),
                s.mlps(),
                s.parameter_count()
            )
        })
        .collect();
    Some(items.join("; "))
}

/// The raw float32 size of all variables at all time steps, against
/// `stored` bytes (the file, or its model): what storing the network saves.
fn compression(meta: &Metadata, stored: u64) -> String {
    match raw_bytes(meta) {
        Some(raw) if stored > 0 => format!(
            "{:.2}x (raw float32 data: {}, stored: {} bytes)",
            raw as f64 / stored as f64,
            super::format_bytes(raw),
            stored
        ),
        _ => "unknown (no raw size for this domain)".into(),
    }
}

/// Bytes of the data as float32: tuples (points or cells of the native
/// domain) x components x 4, over all time steps.
fn raw_bytes(meta: &Metadata) -> Option<u128> {
    let per_step: u128 = meta
        .variables
        .iter()
        .map(|v| Some(tuples(&meta.domain, v.association)? * v.components as u128 * 4))
        .sum::<Option<u128>>()?;
    Some(per_step * meta.time_steps() as u128)
}

/// Tuples a variable of `association` has on the native domain.
fn tuples(domain: &Domain, association: Association) -> Option<u128> {
    match domain {
        Domain::Image { dims, .. } | Domain::Rectilinear { dims, .. } => {
            Some(grid_tuples(dims, association))
        }
        Domain::Unstructured {
            num_points,
            num_cells,
            ..
        } => Some(match association {
            Association::Point => *num_points as u128,
            Association::Cell => *num_cells as u128,
        }),
        Domain::Images {
            width,
            height,
            views,
            parameters,
        } => Some(*width as u128 * *height as u128 * view_count(views.count, parameters) as u128),
    }
}

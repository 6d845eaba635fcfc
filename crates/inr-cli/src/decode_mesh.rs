//! `inr decode` of an unstructured file: the stored (or a refined) mesh with
//! its values as a `.vtu` file, or a resample of the mesh onto a uniform
//! grid as a `.vti` file with VTK's `vtkValidPointMask`.

use std::path::Path;
use std::time::Instant;

use inr_core::decode::grid::zeroed;
use inr_core::decode::Decoder;
use inr_core::error::{Error, Result};
use inr_core::format::Association;
use inr_core::mesh::extract::MeshRequest;
use inr_core::sampling::extent_len;
use inr_vtk::vti::{self, Values, VtiArray};

use super::decode::{output_path, request, with_progress, DecodeArgs};

/// The point array that marks resampled points inside the mesh (VTK's name).
pub const VALID_MASK: &str = "vtkValidPointMask";

/// Decodes an unstructured file as `args` ask and writes the result.
pub fn run(decoder: &Decoder, args: &DecodeArgs) -> Result<()> {
    match args.dims {
        Some(_) => resample(decoder, args),
        None => mesh(decoder, args),
    }
}

/// The stored mesh, refined `--refine` times, with every variable at its
/// nodes or cell centroids, as `.vtu`.
fn mesh(decoder: &Decoder, args: &DecodeArgs) -> Result<()> {
    if args.extent.is_some() {
        return Err(Error::InvalidArgument(
            "--extent: a mesh has no grid extent (give --dims to resample it)".into(),
        ));
    }
    let variables = super::variable_indices(decoder, &args.vars)?;
    decoder.effective_time(args.time)?;
    let output = output_path(args, "vtu")?;
    let start = Instant::now();
    let view = decoder.mesh_view(&MeshRequest {
        level: args.refine.unwrap_or(0),
        ..MeshRequest::default()
    })?;
    let mut values: Vec<Vec<f32>> = variables
        .iter()
        .map(|&v| zeroed(decoder.mesh_value_count(&view.mesh, v)?))
        .collect::<Result<_>>()?;
    with_progress(args, None, |options| {
        let mut outs: Vec<&mut [f32]> = values.iter_mut().map(Vec::as_mut_slice).collect();
        decoder.decode_view_into(&view, &variables, args.time, &mut outs, options)
    })?;
    let decoding = start.elapsed().as_secs_f64();
    let meta = decoder.metadata();
    let arrays: Vec<VtiArray> = variables
        .iter()
        .zip(&values)
        .map(|(&v, vals)| {
            let var = &meta.variables[v];
            VtiArray {
                name: &var.name,
                components: var.components as usize,
                association: var.association,
                values: Values::F32(vals),
            }
        })
        .collect();
    vti::write_unstructured_grid(&output, &view.mesh, &arrays)?;
    let writing = start.elapsed().as_secs_f64() - decoding;
    // The sites the network was evaluated at: nodes, centroids, or both.
    let has = |a: Association| {
        variables
            .iter()
            .any(|&v| meta.variables[v].association == a)
    };
    let sites = usize::from(has(Association::Point)) * view.mesh.num_points()
        + usize::from(has(Association::Cell)) * view.mesh.num_cells();
    let what = format!(
        "{} points and {} cells{}",
        view.mesh.num_points(),
        view.mesh.num_cells(),
        match args.refine {
            Some(l) if l > 0 => format!(" (refined {l} times)"),
            _ => String::new(),
        }
    );
    summary(
        decoder,
        args,
        &arrays,
        &what,
        sites,
        [decoding, writing],
        &output,
    )
}

/// A uniform grid over the mesh's bounds, values inside the mesh and
/// `--outside` elsewhere, with the mask, as `.vti`.
fn resample(decoder: &Decoder, args: &DecodeArgs) -> Result<()> {
    let req = request(decoder, args)?;
    let grid = decoder.sampling_grid(req.dims)?;
    let extent = req.extent.unwrap_or_else(|| grid.whole_extent());
    let output = output_path(args, "vti")?;
    let start = Instant::now();
    let n = extent_len(&extent);
    let mut values: Vec<Vec<f32>> = req
        .variables
        .iter()
        .map(|&v| zeroed(decoder.resample_value_count(&extent, v)?))
        .collect::<Result<_>>()?;
    let mut mask = zeroed(n)?;
    with_progress(args, None, |options| {
        let mut outs: Vec<&mut [f32]> = values.iter_mut().map(Vec::as_mut_slice).collect();
        decoder.resample_into(
            &grid,
            &extent,
            &req.variables,
            req.time,
            args.outside,
            &mut outs,
            Some(&mut mask),
            options,
        )
    })?;
    let decoding = start.elapsed().as_secs_f64();
    let meta = decoder.metadata();
    let mut arrays: Vec<VtiArray> = req
        .variables
        .iter()
        .zip(&values)
        .map(|(&v, vals)| VtiArray {
            name: &meta.variables[v].name,
            components: meta.variables[v].components as usize,
            association: vti::Association::Point,
            values: Values::F32(vals),
        })
        .collect();
    arrays.push(VtiArray {
        name: VALID_MASK,
        components: 1,
        association: vti::Association::Point,
        values: Values::U8(&mask),
    });
    let (origin, spacing) = grid
        .uniform
        .ok_or_else(|| Error::Invalid("a resampling grid is uniform".into()))?;
    vti::write_image_data(&output, extent.map(|v| v as i64), origin, spacing, &arrays)?;
    let writing = start.elapsed().as_secs_f64() - decoding;
    let inside = mask.iter().filter(|&&m| m == 1).count();
    let e = extent;
    let what = format!(
        "{} ({n} points, {inside} inside the mesh)",
        super::format_dims(&[e[1] - e[0] + 1, e[3] - e[2] + 1, e[5] - e[4] + 1])
    );
    summary(
        decoder,
        args,
        &arrays,
        &what,
        n,
        [decoding, writing],
        &output,
    )
}

/// `decoded Temp, V on 8499 points and 44832 cells, static data, in 0.01 s
/// (1.1e6 sites/s); wrote disk.vtu in 0.02 s`.
fn summary(
    decoder: &Decoder,
    args: &DecodeArgs,
    arrays: &[VtiArray],
    what: &str,
    sites: usize,
    [decoding, writing]: [f64; 2],
    output: &Path,
) -> Result<()> {
    let names: Vec<&str> = arrays
        .iter()
        .map(|a| a.name)
        .filter(|&n| n != VALID_MASK)
        .collect();
    let time = super::time_description(decoder, args.time)?;
    log::info!(
        "decoded {} on {what}, {time}, in {decoding:.3} s ({:.3e} sites/s); wrote {} in {writing:.3} s",
        names.join(", "),
        sites as f64 / decoding.max(1e-9),
        output.display()
    );
    Ok(())
}

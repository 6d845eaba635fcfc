//! `inr decode` of a file of rendered images (NeRVI): one image for a time
//! and view, written as a PNG of the file's composite or as a 2-D `.vti` of
//! its variables.

use std::path::Path;
use std::time::Instant;

use inr_core::decode::{DecodedImage, Decoder, ImageRequest, ImageSet};
use inr_core::error::{Error, Result};
use inr_core::format::writer::write_atomically;
use inr_vtk::vti::{self, Values, VtiArray};

use super::decode::{output_path, with_progress, DecodeArgs};

/// Checks the arguments that apply, decodes, writes, reports.
pub fn run(decoder: &Decoder, set: &ImageSet, args: &DecodeArgs) -> Result<()> {
    if args.dims.is_some()
        || args.extent.is_some()
        || args.refine.is_some()
        || args.latent.is_some()
    {
        return Err(Error::InvalidArgument(
            "--dims, --extent, --refine and --latent apply to fields; this file holds images \
             (choose one with --params, e.g. --params t=2,theta=30,phi=0)"
                .into(),
        ));
    }
    let (time, view) = params(decoder, set, args)?;
    let given = args
        .output
        .as_deref()
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str());
    let extension = if given == Some("vti") { "vti" } else { "png" };
    let output = output_path(args, extension)?;
    if !matches!(given, None | Some("png") | Some("vti")) {
        return Err(Error::InvalidArgument(format!(
            "-o {}: an image is written as .png (the composite) or .vti (the variables)",
            output.display()
        )));
    }
    let start = Instant::now();
    let what = if extension == "png" {
        let rgba = with_progress(args, None, |o| decoder.decode_rgba(time, &view, o))?;
        write_png(&output, set, &rgba)?;
        "the composite".to_string()
    } else {
        let variables = super::variable_indices(decoder, &args.vars)?;
        let req = ImageRequest {
            time,
            view: view.clone(),
            variables,
        };
        let img = with_progress(args, None, |o| decoder.decode_image(&req, o))?;
        write_vti(&output, &img)?;
        let names: Vec<&str> = img.arrays.iter().map(|a| a.name.as_str()).collect();
        names.join(", ")
    };
    let c = decoder.image_inputs(time, &view)?;
    let shown: Vec<String> = (set.parameters.iter().zip(&c[c.len() - view.len()..]))
        .map(|(p, v)| format!("{p} = {v}"))
        .collect();
    log::info!(
        "decoded {what} of {} x {} pixels at {}, {}, in {:.3} s; wrote {}",
        set.width,
        set.height,
        super::time_description(decoder, time)?,
        shown.join(", "),
        start.elapsed().as_secs_f64(),
        output.display()
    );
    Ok(())
}

/// `--params t=2,theta=30` and `--time` as the time and one value per view
/// parameter; parameters not given take the first stored view's values.
fn params(decoder: &Decoder, set: &ImageSet, args: &DecodeArgs) -> Result<(Option<f64>, Vec<f64>)> {
    let mut time = args.time;
    let mut view = set.view(0).to_vec();
    for item in args.params.iter().filter(|s| !s.trim().is_empty()) {
        let bad = |why: &str| Error::InvalidArgument(format!("--params {item:?}: {why}"));
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| bad("expected NAME=VALUE"))?;
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| bad("the value is not a number"))?;
        let name = name.trim();
        match set.parameters.iter().position(|p| p == name) {
            Some(i) => view[i] = value,
            None if (name == "t" || name == "time") && args.time.is_none() => time = Some(value),
            None => {
                return Err(bad(&format!(
                    "the file's parameters are {}{}",
                    set.parameters.join(", "),
                    if decoder.metadata().time.is_some() {
                        " and t"
                    } else {
                        ""
                    }
                )))
            }
        }
    }
    decoder.image_inputs(time, &view)?;
    Ok((time, view))
}

fn write_png(path: &Path, set: &ImageSet, rgba: &[u8]) -> Result<()> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, set.width as u32, set.height as u32);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let io = |e: png::EncodingError| Error::io(path, std::io::Error::other(e));
    let mut writer = encoder.write_header().map_err(io)?;
    writer.write_image_data(rgba).map_err(io)?;
    writer.finish().map_err(io)?;
    write_atomically(path, &bytes)
}

/// The variables as point data of a `width x height x 1` image, flipped so
/// that the picture's top row is VTK's last (VTK's y points up).
fn write_vti(path: &Path, img: &DecodedImage) -> Result<()> {
    let flipped: Vec<Vec<f32>> = (img.arrays.iter())
        .map(|a| {
            let row = img.width * a.components;
            a.values
                .chunks_exact(row)
                .rev()
                .flatten()
                .copied()
                .collect()
        })
        .collect();
    let arrays: Vec<VtiArray> = (img.arrays.iter().zip(&flipped))
        .map(|(a, v)| VtiArray {
            name: &a.name,
            components: a.components,
            association: a.association,
            values: Values::F32(v),
        })
        .collect();
    let extent = [0, img.width as i64 - 1, 0, img.height as i64 - 1, 0, 0];
    vti::write_image_data(path, extent, [0.0; 3], [1.0; 3], &arrays)
}

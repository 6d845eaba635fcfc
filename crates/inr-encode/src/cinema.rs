//! A Cinema database (spec D) of rendered images, as `scripts/render_sweep.py`
//! writes it: NeRVI's training data. `data.csv` has one column per
//! parameter and a `FILE` column naming each image (PNG) relative to the
//! database folder; every image has the same size.

use std::collections::HashSet;
use std::fs::File;
use std::io::BufReader;
use std::path::{Component, Path, PathBuf};

use inr_core::error::{Error, Result};

/// Most bytes of decoded pixels a collection may take (RGBA8): a hostile or
/// mistaken database is refused before its images are decoded.
pub const MAX_PIXEL_BYTES: u64 = 16 << 30;

/// The images of a database and their parameters.
#[derive(Debug)]
pub struct Collection {
    /// Parameter names, in the order of `data.csv`'s columns.
    pub parameters: Vec<String>,
    pub width: usize,
    pub height: usize,
    /// Per image, its parameter values in the order of `parameters`.
    pub views: Vec<Vec<f64>>,
    /// Per image, `height` rows of `width` RGBA8 pixels, row 0 at the top;
    /// opaque where the file has no alpha.
    pub pixels: Vec<Vec<u8>>,
}

/// Reads the database in folder `dir`, refusing a collection whose decoded
/// pixels would exceed `max_bytes`.
pub fn read(dir: &Path, max_bytes: u64) -> Result<Collection> {
    let (parameters, rows) = read_index(dir)?;
    let count = rows.len();
    let mut views = Vec::with_capacity(count);
    let mut pixels = Vec::with_capacity(count);
    let mut size = None;
    for (values, file) in rows {
        let path = image_path(dir, &file)?;
        let (w, h, rgba) = read_png(&path)?;
        match size {
            // The first image sets the size: refuse before decoding the rest.
            None => {
                check_budget(dir, w, h, count, max_bytes)?;
                size = Some((w, h));
            }
            Some((width, height)) if (w, h) != (width, height) => {
                return Err(invalid(
                    &path,
                    &format!("{w} x {h}, not {width} x {height} as the first image"),
                ))
            }
            Some(_) => {}
        }
        views.push(values);
        pixels.push(rgba);
    }
    let (width, height) = size.ok_or_else(|| invalid(dir, "data.csv lists no image"))?;
    Ok(Collection {
        parameters,
        width,
        height,
        views,
        pixels,
    })
}

/// Refuses `count` RGBA8 images of `w` x `h` above `max_bytes`.
fn check_budget(dir: &Path, w: usize, h: usize, count: usize, max_bytes: u64) -> Result<()> {
    let bytes = (w as u64 * h as u64 * 4).saturating_mul(count as u64);
    if bytes > max_bytes {
        return Err(Error::LimitExceeded(format!(
            "{}: {count} images of {w} x {h} need {bytes} bytes of pixels, above {max_bytes}",
            dir.display()
        )));
    }
    Ok(())
}

fn invalid(path: &Path, what: &str) -> Error {
    Error::InvalidArgument(format!("{}: {what}", path.display()))
}

type Row = (Vec<f64>, String);

/// The parameter names and, per row, the values and the image's file name.
fn read_index(dir: &Path) -> Result<(Vec<String>, Vec<Row>)> {
    let path = dir.join("data.csv");
    let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
    let mut csv = csv::Reader::from_reader(BufReader::new(file));
    let header = csv
        .headers()
        .map_err(|e| invalid(&path, &e.to_string()))?
        .clone();
    let names: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let file_col =
        (names.iter().position(|n| n == "FILE")).ok_or_else(|| invalid(&path, "no FILE column"))?;
    let parameters: Vec<String> = (names.iter().enumerate())
        .filter(|(i, _)| *i != file_col)
        .map(|(_, n)| n.clone())
        .collect();
    if parameters.is_empty() {
        return Err(invalid(&path, "no parameter column besides FILE"));
    }
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    for (line, record) in csv.records().enumerate() {
        let record = record.map_err(|e| invalid(&path, &e.to_string()))?;
        let at = |what: &str| invalid(&path, &format!("row {}: {what}", line + 2));
        let mut values = Vec::with_capacity(parameters.len());
        for (i, field) in record.iter().enumerate().filter(|(i, _)| *i != file_col) {
            let v: f64 = (field.trim().parse().ok())
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| at(&format!("{} = {field:?} is not a finite number", names[i])))?;
            values.push(v);
        }
        let bits: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        if !seen.insert(bits) {
            return Err(at("the same parameters as an earlier row"));
        }
        rows.push((values, record[file_col].trim().to_string()));
    }
    Ok((parameters, rows))
}

/// `file` inside `dir`: relative, without `..`, so a database cannot name
/// files outside itself.
fn image_path(dir: &Path, file: &str) -> Result<PathBuf> {
    let rel = Path::new(file);
    let inside = !file.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !inside {
        return Err(invalid(
            dir,
            &format!("image {file:?} is not a path inside the database"),
        ));
    }
    Ok(dir.join(rel))
}

/// Width, height and RGBA8 pixels of a PNG.
fn read_png(path: &Path) -> Result<(usize, usize, Vec<u8>)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut decoder = png::Decoder::new(BufReader::new(file));
    // 8-bit RGB(A), gray expanded; 16-bit samples cut to 8.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader =
        (decoder.read_info()).map_err(|e| invalid(path, &format!("not a readable PNG: {e}")))?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame =
        (reader.next_frame(&mut buf)).map_err(|e| invalid(path, &format!("bad PNG data: {e}")))?;
    let (w, h) = (frame.width as usize, frame.height as usize);
    let channels = frame.color_type.samples();
    let src = &buf[..frame.buffer_size()];
    let mut rgba = Vec::with_capacity(w * h * 4);
    for px in src.chunks_exact(channels) {
        match channels {
            1 => rgba.extend_from_slice(&[px[0], px[0], px[0], 255]),
            2 => rgba.extend_from_slice(&[px[0], px[0], px[0], px[1]]),
            3 => rgba.extend_from_slice(&[px[0], px[1], px[2], 255]),
            _ => rgba.extend_from_slice(&px[..4]),
        }
    }
    Ok((w, h, rgba))
}

//! ParaView data collections (`.pvd`): a list of dataset files with times.
//!
//! ```xml
//! <VTKFile type="Collection" version="0.1" byte_order="LittleEndian">
//!   <Collection>
//!     <DataSet timestep="0.1" part="0" file="mug_01.vtu"/>
//!   </Collection>
//! </VTKFile>
//! ```

use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::Ctx;
use inr_core::error::Result;

/// Whether `path` names a `.pvd` file.
pub(crate) fn is_pvd(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("pvd"))
}

/// The `(timestep, file)` entries of the collection held in `bytes`, files
/// resolved relative to the `.pvd`'s folder, sorted by timestep.
///
/// One file per timestep: a collection with several parts (`part`
/// attributes) or blocks per timestep is [`Unsupported`](crate::Error::Unsupported),
/// a repeated timestep otherwise [`Invalid`](crate::Error::Invalid).
pub(crate) fn parse(ctx: &Ctx, bytes: &[u8]) -> Result<Vec<(f64, PathBuf)>> {
    let dir = ctx.path.parent().unwrap_or(Path::new(""));
    let mut reader = Reader::from_reader(bytes);
    let mut depth = 0usize;
    let mut in_collection = false;
    let mut saw_root = false;
    // (time, part, file)
    let mut entries: Vec<(f64, String, PathBuf)> = Vec::new();
    loop {
        let event = reader.read_event().map_err(|e| {
            ctx.invalid(format!(
                "malformed XML near byte {}: {e}",
                reader.error_position()
            ))
        })?;
        let (element, opens) = match &event {
            Event::Start(e) => (e, true),
            Event::Empty(e) => (e, false),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 1 {
                    in_collection = false;
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        match (depth, element.name().as_ref()) {
            (0, b"VTKFile") => {
                let kind = attr(ctx, element, "type")?;
                if kind.as_deref() != Some("Collection") {
                    return Err(ctx.invalid(format!(
                        "VTKFile type is {kind:?}, a .pvd must be \"Collection\""
                    )));
                }
                saw_root = true;
            }
            (0, other) => {
                return Err(ctx.invalid(format!(
                    "the root element is <{}>, not <VTKFile>",
                    String::from_utf8_lossy(other)
                )))
            }
            (1, b"Collection") => in_collection = opens,
            (2, b"DataSet") if in_collection => entries.push(entry(ctx, dir, element)?),
            _ => {}
        }
        if opens {
            depth += 1;
        }
    }
    if !saw_root {
        return Err(ctx.invalid("no <VTKFile type=\"Collection\"> element"));
    }
    finish(ctx, entries)
}

/// Sorts the entries and checks that each timestep has one file.
fn finish(ctx: &Ctx, mut entries: Vec<(f64, String, PathBuf)>) -> Result<Vec<(f64, PathBuf)>> {
    if entries.is_empty() {
        return Err(ctx.invalid("the collection lists no <DataSet>"));
    }
    entries.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in entries.windows(2) {
        let ((t0, p0, _), (t1, p1, _)) = (&pair[0], &pair[1]);
        if t0 == t1 {
            return Err(if p0 != p1 {
                ctx.unsupported(format!(
                    "timestep {t0} has several parts ({p0:?}, {p1:?}); only one file per \
                     timestep is read"
                ))
            } else {
                ctx.invalid(format!("timestep {t0} is listed twice"))
            });
        }
    }
    Ok(entries.into_iter().map(|(t, _, f)| (t, f)).collect())
}

fn entry(ctx: &Ctx, dir: &Path, e: &BytesStart) -> Result<(f64, String, PathBuf)> {
    let time = match attr(ctx, e, "timestep")? {
        None => 0.0,
        Some(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|t| t.is_finite())
            .ok_or_else(|| {
                ctx.invalid(format!("<DataSet> timestep {s:?} is not a finite number"))
            })?,
    };
    let part = attr(ctx, e, "part")?.unwrap_or_default();
    let file = attr(ctx, e, "file")?
        .filter(|f| !f.is_empty())
        .ok_or_else(|| ctx.invalid("a <DataSet> has no file attribute"))?;
    Ok((time, part, dir.join(file)))
}

fn attr(ctx: &Ctx, e: &BytesStart, key: &str) -> Result<Option<String>> {
    let bad = |why: String| ctx.invalid(format!("attributes of a collection element: {why}"));
    for a in e.attributes() {
        let a = a.map_err(|err| bad(err.to_string()))?;
        if a.key.as_ref() == key.as_bytes() {
            let v = a.unescape_value().map_err(|err| bad(err.to_string()))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

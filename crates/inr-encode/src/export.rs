//! From trained weights to an `.inr` file, and back through the pure-Rust
//! decoder to measure what the file really reconstructs.

use std::collections::BTreeMap;

use inr_core::decode::Decoder;
use inr_core::error::{Error, Result};
use inr_core::format::section::Compression;
use inr_core::format::{
    Domain, FileBuilder, InrFile, Metadata, TimeAxis, Variable, WeightEncoding,
};
use inr_core::mesh::Mesh;
use inr_core::model::{McInr, ResidualSiren};
use inr_vtk::vtkxml::Grid;

use super::data::Samples;
use super::quality::{self, VariableQuality};

/// A family's trained weights as the file stores them.
pub trait WriteWeights {
    /// Writes the weights into sections of `builder`; returns the
    /// metadata's `"model"` object.
    fn write_weights(
        &self,
        builder: &mut FileBuilder,
        encoding: WeightEncoding,
    ) -> Result<serde_json::Value>;
}

impl WriteWeights for ResidualSiren {
    fn write_weights(
        &self,
        builder: &mut FileBuilder,
        encoding: WeightEncoding,
    ) -> Result<serde_json::Value> {
        let weights = builder.new_section("weights", Compression::Zstd);
        self.write(builder, weights, encoding)
    }
}

impl WriteWeights for McInr {
    /// Each cluster's network in its own section.
    fn write_weights(
        &self,
        builder: &mut FileBuilder,
        encoding: WeightEncoding,
    ) -> Result<serde_json::Value> {
        self.write(builder, encoding)
    }
}

/// The complete file: the model, the input grid as the domain, the time
/// axis and the variables with their ranges.
pub fn file_bytes(
    samples: &Samples,
    model: &dyn WriteWeights,
    encoding: WeightEncoding,
    attributes: BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    file_bytes_with(samples, model, encoding, attributes, MeshCopy::Stored)
}

/// The model bytes (the file less a mesh) of [`file_bytes`], without
/// compressing the mesh: the size search calls this for every width it
/// tries, and a large mesh takes seconds to compress.
pub fn model_bytes_of(
    samples: &Samples,
    model: &dyn WriteWeights,
    encoding: WeightEncoding,
    attributes: BTreeMap<String, String>,
) -> Result<u64> {
    model_bytes(&file_bytes_with(
        samples,
        model,
        encoding,
        attributes,
        MeshCopy::StandIn,
    )?)
}

/// Whether a file written to measure its model stores the real mesh or a
/// one-tetrahedron stand-in (the mesh's sections are not model bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
enum MeshCopy {
    Stored,
    StandIn,
}

/// The complete file, with `mesh` as the domain of a mesh.
fn file_bytes_with(
    samples: &Samples,
    model: &dyn WriteWeights,
    encoding: WeightEncoding,
    attributes: BTreeMap<String, String>,
    mesh: MeshCopy,
) -> Result<Vec<u8>> {
    let mut builder = FileBuilder::new();
    let model_value = model.write_weights(&mut builder, encoding)?;
    let domain = domain(samples, &mut builder, mesh)?;
    let metadata = Metadata {
        generator: format!("inr {} (encoder)", env!("CARGO_PKG_VERSION")),
        domain,
        time: (samples.times.len() > 1).then(|| TimeAxis {
            values: samples.times.clone(),
        }),
        variables: samples
            .variables
            .iter()
            .map(|v| Variable {
                name: v.name.clone(),
                components: v.components as u32,
                association: v.association,
                range: v.range.clone(),
                units: None,
            })
            .collect(),
        model: model_value,
        sections: Vec::new(),
        attributes,
        corrections: None,
    };
    builder.to_bytes(metadata)
}

/// The bytes of a file that are not its mesh: the whole file for grids.
pub fn model_bytes(bytes: &[u8]) -> Result<u64> {
    let file = InrFile::from_bytes(bytes.to_vec())?;
    Ok(file.file_len() - file.metadata().mesh_bytes())
}

/// The domain of the samples' grid; a mesh or rectilinear axes go into a
/// section of their own.
fn domain(samples: &Samples, builder: &mut FileBuilder, copy: MeshCopy) -> Result<Domain> {
    let axes = match (&samples.grid, samples.point_axes()) {
        (Grid::Unstructured(mesh), _) if copy == MeshCopy::StandIn => {
            return Ok(stand_in(mesh).write(builder))
        }
        (Grid::Unstructured(mesh), _) => return Ok(mesh.write(builder)),
        (_, Some(axes)) => axes,
        (_, None) => return Err(Error::Invalid("the grid has no points".into())),
    };
    let dims = axes.clone().map(|a| a.len() as u64);
    Ok(match &samples.grid {
        Grid::Image { spacing, .. } => Domain::Image {
            dims,
            origin: axes.clone().map(|a| a[0]),
            spacing: *spacing,
        },
        _ => {
            let section = builder.new_section("domain", Compression::Zstd);
            let [x, y, z] = axes.map(|a| builder.push_f64_array(section, &a));
            Domain::Rectilinear { dims, x, y, z }
        }
    })
}

/// Opens `bytes` with the decoder and measures every variable at every
/// site of the samples, as the native grid or stored mesh decodes it.
pub fn decoder_quality(samples: &Samples, bytes: &[u8]) -> Result<Vec<VariableQuality>> {
    let decoder = Decoder::from_bytes(bytes.to_vec())?;
    let values = crate::bound::stored_values(&decoder, samples)?;
    quality::measure(samples, |p| Ok(values[p].clone()))
}

/// One tetrahedron with the mesh's point precision.
fn stand_in(mesh: &Mesh) -> Mesh {
    Mesh {
        points: vec![0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        offsets: vec![0, 4],
        connectivity: vec![0, 1, 2, 3],
        types: vec![10],
        points_f32: mesh.points_f32,
    }
}

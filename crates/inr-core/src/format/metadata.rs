//! The JSON metadata block: domain, time axis, variables, model description and
//! the section table. Readers ignore fields they do not know (newer minor
//! versions may add optional ones); `validate` checks everything a decoder
//! relies on, before any section is read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format::corrections::CorrectionsMeta;
use crate::format::limits;
use crate::format::section::Compression;

/// The whole metadata block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The program that wrote the file, e.g. "inr 0.1.0".
    pub generator: String,
    /// Where the data lives.
    pub domain: Domain,
    /// The time axis; absent for a single time step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeAxis>,
    /// The variables, in the order of the model's outputs.
    pub variables: Vec<Variable>,
    /// The model: `{"family": "...", ...}`; its shape depends on the family and
    /// is parsed by `crate::model`.
    pub model: serde_json::Value,
    /// The binary sections, addressed by index from the rest of the metadata.
    pub sections: Vec<SectionEntry>,
    /// Free-form provenance (source file, encoder settings, quality report).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Residuals that bound the error at the stored sites (format 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrections: Option<CorrectionsMeta>,
}

/// The spatial domain of the data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Domain {
    /// A uniform grid, VTK image data: point (i,j,k) is at `origin + (i,j,k)*spacing`.
    Image {
        dims: [u64; 3],
        origin: [f64; 3],
        spacing: [f64; 3],
    },
    /// A rectilinear grid: per-axis coordinate arrays (f64, strictly increasing).
    Rectilinear {
        dims: [u64; 3],
        x: ArrayRef,
        y: ArrayRef,
        z: ArrayRef,
    },
    /// An unstructured mesh stored losslessly (VTK cell layout).
    Unstructured {
        num_points: u64,
        num_cells: u64,
        /// Axis-aligned bounds [xmin, xmax, ymin, ymax, zmin, zmax].
        bounds: [f64; 6],
        /// 3 * num_points coordinates, f32 or f64 as in the source.
        points: ArrayRef,
        /// Point ids of all cells, concatenated.
        connectivity: ArrayRef,
        /// num_cells + 1 offsets into `connectivity`, starting at 0.
        offsets: ArrayRef,
        /// num_cells VTK cell type codes (u8).
        types: ArrayRef,
    },
    /// A collection of rendered images indexed by view parameters (NeRVI).
    Images {
        width: u64,
        height: u64,
        /// The view parameters of the stored images: `views.count / parameters.len()`
        /// views, each with one f64 value per parameter.
        views: ArrayRef,
        /// Names of the view parameters, e.g. ["theta", "phi"].
        parameters: Vec<String>,
    },
}

/// The time axis: the physical time of each stored step, strictly increasing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeAxis {
    pub values: Vec<f64>,
}

/// Where a variable's values are attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Association {
    Point,
    Cell,
}

/// One variable of the data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    pub name: String,
    pub components: u32,
    pub association: Association,
    /// Per component, the [min, max] that the model's output [-1, 1] maps to.
    pub range: Vec<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
}

/// An entry of the section table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SectionEntry {
    /// Human-readable role, e.g. "weights".
    pub name: String,
    /// Absolute byte offset of the stored bytes in the file.
    pub offset: u64,
    /// Stored (possibly compressed) length.
    pub stored_length: u64,
    /// Decoded length.
    pub length: u64,
    pub compression: Compression,
    /// CRC-32 of the stored bytes.
    pub crc32: u32,
}

/// Element types of raw arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DType {
    U8,
    U32,
    U64,
    F32,
    F64,
    /// Signed integers as zigzag LEB128 varints of the differences between
    /// consecutive values (first value relative to 0): compact for mesh ids.
    DeltaVarint,
}

impl DType {
    /// Bytes per element of fixed-size types.
    pub fn size(self) -> Option<u64> {
        match self {
            DType::U8 => Some(1),
            DType::U32 | DType::F32 => Some(4),
            DType::U64 | DType::F64 => Some(8),
            DType::DeltaVarint => None,
        }
    }
}

/// A typed array inside a section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArrayRef {
    pub section: u32,
    /// Byte offset in the decoded section.
    pub offset: u64,
    /// Number of elements.
    pub count: u64,
    pub dtype: DType,
    /// Byte length for variable-length encodings (DeltaVarint); derived otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

impl Metadata {
    /// The family name of the model, e.g. "residual_siren".
    pub fn model_family(&self) -> &str {
        self.model
            .get("family")
            .and_then(|f| f.as_str())
            .unwrap_or("")
    }

    /// Number of time steps (1 when there is no time axis).
    pub fn time_steps(&self) -> usize {
        self.time.as_ref().map_or(1, |t| t.values.len())
    }

    /// Total output components of all variables.
    pub fn total_components(&self) -> usize {
        self.variables.iter().map(|v| v.components as usize).sum()
    }

    /// Stored bytes of the sections that hold an unstructured mesh (0 for
    /// other domains): what a file spends on the mesh rather than the
    /// model, so that the model-only compression ratio can be stated.
    pub fn mesh_bytes(&self) -> u64 {
        let Domain::Unstructured {
            points,
            connectivity,
            offsets,
            types,
            ..
        } = &self.domain
        else {
            return 0;
        };
        let mut sections: Vec<u32> = [points, connectivity, offsets, types]
            .iter()
            .map(|a| a.section)
            .collect();
        sections.sort_unstable();
        sections.dedup();
        sections
            .iter()
            .filter_map(|&i| self.sections.get(i as usize))
            .map(|e| e.stored_length)
            .sum()
    }

    /// Finds a variable by name.
    pub fn variable_index(&self, name: &str) -> Option<usize> {
        self.variables.iter().position(|v| v.name == name)
    }

    /// Checks everything that does not need section data: limits, that sections
    /// lie inside the file, value ranges, the domain and the time axis.
    pub fn validate(&self, file_len: u64, data_start: u64) -> Result<()> {
        self.validate_sections(file_len, data_start)?;
        self.domain.validate(self.sections.len())?;
        self.validate_time()?;
        self.validate_variables()?;
        match &self.corrections {
            Some(c) => c.validate(&self.variables, self.time_steps(), self.sections.len()),
            None => Ok(()),
        }
    }

    fn validate_sections(&self, file_len: u64, data_start: u64) -> Result<()> {
        if self.sections.len() > limits::MAX_SECTIONS {
            return Err(Error::LimitExceeded(format!(
                "{} sections, limit {}",
                self.sections.len(),
                limits::MAX_SECTIONS
            )));
        }
        for (i, s) in self.sections.iter().enumerate() {
            let end = s.offset.checked_add(s.stored_length);
            let spans = || {
                format!(
                    "section {i} ({}) spans bytes {}..+{} of a {file_len}-byte file",
                    s.name, s.offset, s.stored_length
                )
            };
            if s.offset < data_start || s.offset > file_len || end.is_none() {
                return Err(Error::OutOfBounds(spans()));
            }
            // Starts inside the file, ends past it: the file was cut short.
            if end.is_some_and(|e| e > file_len) {
                return Err(Error::Truncated(format!(
                    "{}: the file is truncated",
                    spans()
                )));
            }
            if s.length > limits::MAX_SECTION_BYTES {
                return Err(Error::LimitExceeded(format!(
                    "section {i} ({}) declares {} bytes, limit {}",
                    s.name,
                    s.length,
                    limits::MAX_SECTION_BYTES
                )));
            }
            if s.compression == Compression::None && s.length != s.stored_length {
                return Err(Error::Invalid(format!(
                    "uncompressed section {i} with differing stored and decoded lengths"
                )));
            }
        }
        Ok(())
    }

    fn validate_time(&self) -> Result<()> {
        let Some(t) = &self.time else { return Ok(()) };
        if t.values.is_empty() || t.values.len() > limits::MAX_TIME_STEPS {
            return Err(Error::Invalid(format!(
                "time axis with {} steps (must be 1..={})",
                t.values.len(),
                limits::MAX_TIME_STEPS
            )));
        }
        if t.values.iter().any(|v| !v.is_finite()) || t.values.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::Invalid(
                "time values must be finite and strictly increasing".into(),
            ));
        }
        Ok(())
    }

    fn validate_variables(&self) -> Result<()> {
        if self.variables.is_empty() || self.variables.len() > limits::MAX_VARIABLES {
            return Err(Error::Invalid(format!(
                "{} variables (must be 1..={})",
                self.variables.len(),
                limits::MAX_VARIABLES
            )));
        }
        for v in &self.variables {
            v.validate()?;
        }
        for (i, v) in self.variables.iter().enumerate() {
            if self.variables[..i].iter().any(|w| w.name == v.name) {
                return Err(Error::Invalid(format!(
                    "duplicate variable name {:?}",
                    v.name
                )));
            }
        }
        Ok(())
    }
}

impl Variable {
    fn validate(&self) -> Result<()> {
        let name_ok = |s: &str| !s.is_empty() && s.len() <= limits::MAX_NAME_BYTES;
        if !name_ok(&self.name)
            || self
                .units
                .as_deref()
                .is_some_and(|u| u.len() > limits::MAX_NAME_BYTES)
        {
            return Err(Error::Invalid(format!(
                "variable name or units empty or longer than {} bytes",
                limits::MAX_NAME_BYTES
            )));
        }
        if self.components == 0 || self.components > limits::MAX_COMPONENTS {
            return Err(Error::Invalid(format!(
                "variable {:?} has {} components (must be 1..={})",
                self.name,
                self.components,
                limits::MAX_COMPONENTS
            )));
        }
        if self.range.len() != self.components as usize {
            return Err(Error::Shape(format!(
                "variable {:?}: {} ranges for {} components",
                self.name,
                self.range.len(),
                self.components
            )));
        }
        if self
            .range
            .iter()
            .any(|r| !(r[0].is_finite() && r[1].is_finite() && r[0] <= r[1]))
        {
            return Err(Error::Invalid(format!(
                "variable {:?}: ranges must be finite with min <= max",
                self.name
            )));
        }
        Ok(())
    }
}

impl Domain {
    /// The kind's name as written in the file.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Domain::Image { .. } => "image",
            Domain::Rectilinear { .. } => "rectilinear",
            Domain::Unstructured { .. } => "unstructured",
            Domain::Images { .. } => "images",
        }
    }

    /// Points per axis of a structured domain.
    pub fn dims(&self) -> Option<[u64; 3]> {
        match self {
            Domain::Image { dims, .. } | Domain::Rectilinear { dims, .. } => Some(*dims),
            _ => None,
        }
    }

    fn validate(&self, sections: usize) -> Result<()> {
        if let Some(dims) = self.dims() {
            validate_dims(dims)?;
        }
        match self {
            Domain::Image {
                origin, spacing, ..
            } => {
                if origin.iter().chain(spacing).any(|v| !v.is_finite())
                    || spacing.iter().any(|&s| s <= 0.0)
                {
                    return Err(Error::Invalid(
                        "image origin must be finite and spacing finite and positive".into(),
                    ));
                }
            }
            Domain::Rectilinear { dims, x, y, z } => {
                for (axis, (a, n)) in [x, y, z].into_iter().zip(dims).enumerate() {
                    a.check_section(sections)?;
                    if a.dtype != DType::F64 || a.count != *n {
                        return Err(Error::Shape(format!(
                            "rectilinear axis {axis}: {} {:?} coordinates for {n} points (f64 expected)",
                            a.count, a.dtype
                        )));
                    }
                }
            }
            Domain::Unstructured {
                points,
                connectivity,
                offsets,
                types,
                bounds,
                ..
            } => {
                for a in [points, connectivity, offsets, types] {
                    a.check_section(sections)?;
                }
                if bounds.iter().any(|b| !b.is_finite()) {
                    return Err(Error::Invalid("mesh bounds must be finite".into()));
                }
            }
            Domain::Images { views, .. } => views.check_section(sections)?,
        }
        Ok(())
    }
}

/// Checks the point counts of a structured grid against the limits.
pub fn validate_dims(dims: [u64; 3]) -> Result<()> {
    if dims.iter().any(|&d| d == 0 || d > limits::MAX_AXIS_POINTS) {
        return Err(Error::Invalid(format!(
            "grid dimensions {dims:?} (each must be 1..={})",
            limits::MAX_AXIS_POINTS
        )));
    }
    let total = dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
    if total.is_none_or(|t| t > limits::MAX_GRID_POINTS) {
        return Err(Error::LimitExceeded(format!(
            "grid dimensions {dims:?} exceed {} points",
            limits::MAX_GRID_POINTS
        )));
    }
    Ok(())
}

impl ArrayRef {
    fn check_section(&self, sections: usize) -> Result<()> {
        if self.section as usize >= sections {
            return Err(Error::OutOfBounds(format!(
                "array refers to section {} of {sections}",
                self.section
            )));
        }
        Ok(())
    }
}

//! Hard limits a reader enforces *before* allocating. A hostile file can declare
//! any size it likes; these bounds keep a bad file from exhausting memory in the
//! host (ParaView, a simulation code). They are far above any real model.

/// Largest metadata block, compressed or not (JSON text).
pub const MAX_METADATA_BYTES: u64 = 64 << 20;
/// Largest decoded section.
pub const MAX_SECTION_BYTES: u64 = 4 << 30;
/// Most sections in one file.
pub const MAX_SECTIONS: usize = 1 << 20;
/// Most variables in one file.
pub const MAX_VARIABLES: usize = 4096;
/// Most components of one variable (a 3x3 tensor has 9).
pub const MAX_COMPONENTS: u32 = 64;
/// Most time steps on the time axis.
pub const MAX_TIME_STEPS: usize = 1 << 20;
/// Most points along one axis of a structured domain or sampling grid.
pub const MAX_AXIS_POINTS: u64 = 1 << 24;
/// Most points of a structured domain or of one decoded grid.
pub const MAX_GRID_POINTS: u64 = 1 << 40;
/// Longest variable name or unit string, in bytes.
pub const MAX_NAME_BYTES: usize = 1024;
/// Most layers in one network.
pub const MAX_LAYERS: usize = 1024;
/// Widest layer (inputs or outputs).
pub const MAX_FEATURES: u64 = 1 << 16;
/// Most elements in one tensor.
pub const MAX_TENSOR_ELEMENTS: u64 = 1 << 28;
/// Most parameters in one model.
pub const MAX_PARAMETERS: u64 = 1 << 30;
/// Widest quantization index.
pub const MAX_CODEBOOK_BITS: u8 = 16;

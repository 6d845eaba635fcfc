//! VTK XML files for inr: reading what ParaView writes (`.vti`, `.vtr`,
//! `.vtu`, `.pvd`; appended raw or base64, zlib) into samples for the
//! encoder, and writing decoded grids as `.vti`/`.vtr` through vtkio.

pub mod vti;
pub mod vtkxml;

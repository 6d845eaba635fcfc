//! What tests, benchmarks and `inr synthetic` build on: synthetic models
//! (random weights in complete `.inr` files), meshes of every cell type, and
//! f64 reference evaluators written from docs/format.md.

pub mod ecnr;
pub mod fields;
pub mod meshes;
pub mod nervi;
pub mod reference;
pub mod reference_ecnr;
pub mod reference_nervi;
pub mod reference_stsr;
pub mod stsr;
pub mod synthetic;

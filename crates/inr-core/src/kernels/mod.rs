//! CPU kernels of the decoder: GEMM (through `matrixmultiply`), a vectorized
//! sine, and the fused tile evaluator of sine networks.

pub mod gemm;
pub mod mlp;
pub mod narrow;
pub mod sine;

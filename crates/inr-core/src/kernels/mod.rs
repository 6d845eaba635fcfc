//! CPU kernels of the decoder: GEMM (through `matrixmultiply`), a vectorized
//! sine, the fused tile evaluator of sine networks, and NeRVI's image kernels.

pub mod conv;
pub mod gemm;
pub mod mlp;
pub mod narrow;
pub mod sine;

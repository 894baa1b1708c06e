// Marks a function that both renderers run: the CPU compiles it as an ordinary inline function,
// nvcc for host and device, so the two backends compute the same arithmetic from one source.
#pragma once

#if defined(__CUDACC__)
#define CS_HD __host__ __device__ inline
#else
#define CS_HD inline
#endif

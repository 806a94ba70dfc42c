// The output pass of an integer Linear: int32 sums to floats, zero points, scales and bias in one loop.
#pragma once

#include <cstdint>
#include <span>

namespace tinyml::quant {

// What the output pass reads, for an (M, K) input times a (N, K) weight. `acc` holds the
// M×N sums Σ_k qx·qw of the int8 GEMM (row-major, leading dimension N); the zero points are not
// applied yet. `rowsum_x` (M entries, Σ_k qx per row) may be null when every z_w is 0, the only
// case in which it is not needed. `z_w` and `s_w` hold 1 entry (per tensor) or N (per output
// channel); `colsum_w` holds Σ_k qw per output channel (N entries). K <= kQgemmMaxK_zero_point.
struct AccumulatorPass {
  int64_t M = 0, N = 0, K = 0;
  const int32_t* acc = nullptr;
  const int32_t* rowsum_x = nullptr;
  const int32_t* colsum_w = nullptr;
  int32_t z_x = 0;
  std::span<const int32_t> z_w;
  float s_x = 1.0f;
  std::span<const float> s_w;
  // Static mode: the int32 bias of scale s_x·s_w[j] (N entries), added before scaling. An empty
  // span with integer_bias set means no bias.
  bool integer_bias = false;
  std::span<const int32_t> bias_int32;
  // Dynamic mode: the fp32 bias (N entries, or empty for none), added after scaling.
  std::span<const float> bias;
  bool relu = false;  // clamp the output at 0 (a fused ReLU)
};

// y[i][j] (M×N, row-major) = max(floor, s_x·s_w[j]·(c[i][j] + b_q[j])) with an integer bias, or
// max(floor, s_x·s_w[j]·c[i][j] + b[j]) without, where floor is 0 with `relu` and −∞ otherwise, and
//   c[i][j] = acc[i][j] − z_w[j]·rowsum_x[i] − z_x·colsum_w[j] + K·z_x·z_w[j] = Σ_k (qx − z_x)(qw − z_w[j])
// is exactly kernels::zero_point_correct's result (its specification), folded into the same pass
// that scales: one read of the accumulator instead of two. The scale s_x·s_w[j] is a float product
// and the integer bias is added in int64, so no sum wraps. Arguments are the caller's to check.
void accumulator_to_float(const AccumulatorPass& p, float* y);

}  // namespace tinyml::quant

#include "tinyml/quant/accumulator.hpp"

#include <limits>
#include <type_traits>
#include <vector>

namespace tinyml::quant {

void accumulator_to_float(const AccumulatorPass& p, float* y) {
  const int64_t M = p.M, N = p.N;
  // The zero points in unsigned 32-bit arithmetic, as kernels::zero_point_correct computes them
  // (wrap-around is defined there, and the true result fits in int32); the column terms
  // z_x·(K·z_w[j] − colsum_w[j]) and the column scales are computed once per call.
  std::vector<float> col_scale(static_cast<size_t>(N));
  std::vector<uint32_t> col_term(static_cast<size_t>(N)), zw(static_cast<size_t>(N));
  const auto zxu = static_cast<uint32_t>(p.z_x);
  for (int64_t j = 0; j < N; ++j) {
    const auto c = static_cast<size_t>(j);
    col_scale[c] = p.s_x * p.s_w[p.s_w.size() == 1 ? 0 : c];
    zw[c] = static_cast<uint32_t>(p.z_w[p.z_w.size() == 1 ? 0 : c]);
    col_term[c] = zxu * (static_cast<uint32_t>(p.K) * zw[c] - static_cast<uint32_t>(p.colsum_w[c]));
  }
  // A missing bias reads as zeros, so the loop below has no branch on it.
  std::vector<int32_t> no_bias_q(p.integer_bias && p.bias_int32.empty() ? static_cast<size_t>(N) : 0, 0);
  std::vector<float> no_bias_f(!p.integer_bias && p.bias.empty() ? static_cast<size_t>(N) : 0, 0.0f);
  const int32_t* bq = p.bias_int32.empty() ? no_bias_q.data() : p.bias_int32.data();
  const float* bf = p.bias.empty() ? no_bias_f.data() : p.bias.data();
  const float* cs = col_scale.data();
  const uint32_t* ct = col_term.data();
  const uint32_t* zwp = zw.data();
  const float floor_value = p.relu ? 0.0f : -std::numeric_limits<float>::infinity();
  // One loop body for the four cases, so the compiler vectorizes each without a branch inside.
  auto pass = [&](auto integer_bias, auto with_rows) {
    for (int64_t i = 0; i < M; ++i) {
      const int32_t* ar = p.acc + i * N;
      float* yr = y + i * N;
      const uint32_t r = with_rows ? static_cast<uint32_t>(p.rowsum_x[i]) : 0u;
      for (int64_t j = 0; j < N; ++j) {
        uint32_t cu = static_cast<uint32_t>(ar[j]) + ct[j];
        if constexpr (with_rows) cu -= zwp[j] * r;
        const auto c = static_cast<int32_t>(cu);
        float v;
        if constexpr (integer_bias)
          v = cs[j] * static_cast<float>(static_cast<int64_t>(c) + bq[j]);
        else
          v = cs[j] * static_cast<float>(c) + bf[j];
        yr[j] = v > floor_value ? v : floor_value;
      }
    }
  };
  using yes = std::true_type;
  using no = std::false_type;
  const bool rows = p.rowsum_x != nullptr;
  if (p.integer_bias)
    rows ? pass(yes{}, yes{}) : pass(yes{}, no{});
  else
    rows ? pass(no{}, yes{}) : pass(no{}, no{});
}

}  // namespace tinyml::quant

// Milestone 10: the int8 GEMM three ways — the reference loop, oneDNN, and fp32 sgemm for scale.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tinyml/core/random.hpp"
#include "tinyml/kernels/qgemm.hpp"
#include "tinyml/kernels/sgemm.hpp"

using namespace tinyml;

namespace {

// Seconds per call: the best of `repeats` runs (the least disturbed by the rest of the machine).
double best_seconds(int repeats, const std::function<void()>& fn) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const int64_t M = quick ? 64 : 256, N = quick ? 256 : 1024, K = quick ? 256 : 1024;
  Generator gen(0);
  std::vector<uint8_t> A(static_cast<size_t>(M * K));
  std::vector<int8_t> B(static_cast<size_t>(N * K));  // N×K: a Linear weight (out, in)
  for (auto& a : A) a = static_cast<uint8_t>(gen.randint(256));
  for (auto& b : B) b = static_cast<int8_t>(static_cast<int>(gen.randint(256)) - 128);
  std::vector<float> Af(A.begin(), A.end()), Bf(B.begin(), B.end()), Cf(static_cast<size_t>(M * N));
  std::vector<int32_t> ref(static_cast<size_t>(M * N)), fast(ref.size());

  const double ops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  const double t_ref = best_seconds(
      1, [&] { kernels::qgemm_reference_u8s8(M, N, K, A.data(), K, B.data(), K, true, ref.data(), N); });
  const double t_int8 =
      best_seconds(5, [&] { kernels::qgemm_u8s8(M, N, K, A.data(), K, B.data(), K, true, fast.data(), N); });
  const double t_fp32 = best_seconds(
      5, [&] { kernels::sgemm(false, true, M, N, K, 1.0f, Af.data(), K, Bf.data(), K, 0.0f, Cf.data(), N); });
  fmt::print("{}x{}x{}  ({})\n", M, N, K, kernels::qgemm_info());
  fmt::print("  reference loop   {:9.2f} ms  {:8.1f} GOP/s\n", 1e3 * t_ref, ops / t_ref * 1e-9);
  fmt::print("  int8 (oneDNN)    {:9.2f} ms  {:8.1f} GOP/s\n", 1e3 * t_int8, ops / t_int8 * 1e-9);
  fmt::print("  fp32 sgemm       {:9.2f} ms  {:8.1f} GFLOP/s\n", 1e3 * t_fp32, ops / t_fp32 * 1e-9);
  const bool same = fast == ref;
  fmt::print("int8 results identical to the reference: {}\n", same ? "yes" : "NO");
  return same ? 0 : 1;
}

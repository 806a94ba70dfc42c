// Micro-benchmarks of the int8 GEMM (oneDNN u8s8s32 and the reference loops) against the float sgemm.
//
// Single-thread figures, as in docs/performance tables:
//   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 build/bin/bench_qgemm
// (oneDNN threads through OpenMP, OpenBLAS through its own pool; both read these variables.)
// The "GOP/s" counter counts a multiply and an add as two operations, for int8 and float alike.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "tinyml/kernels/qgemm.hpp"
#include "tinyml/kernels/sgemm.hpp"

namespace k = tinyml::kernels;

namespace {

struct Operands {
  std::vector<uint8_t> A;
  std::vector<int8_t> B;
  std::vector<int32_t> C;
};

Operands make_operands(int64_t M, int64_t N, int64_t K) {
  std::mt19937 gen(7);
  Operands o{std::vector<uint8_t>(static_cast<size_t>(M * K)),
             std::vector<int8_t>(static_cast<size_t>(K * N)),
             std::vector<int32_t>(static_cast<size_t>(M * N))};
  for (auto& a : o.A) a = static_cast<uint8_t>(gen() & 0xFF);
  for (auto& b : o.B) b = static_cast<int8_t>(static_cast<uint8_t>(gen() & 0xFF));
  return o;
}

void set_gop_counter(benchmark::State& state, int64_t M, int64_t N, int64_t K) {
  // Iteration-invariant rate: the value is multiplied by the iteration count and divided by time.
  state.counters["GOP/s"] = benchmark::Counter(2.0 * static_cast<double>(M * N * K) * 1e-9,
                                               benchmark::Counter::kIsIterationInvariantRate);
}

// args: M, N, K; B is stored N×K (trans_b), the layout of a Linear weight.
void BM_qgemm_u8s8_onednn(benchmark::State& state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  auto o = make_operands(M, N, K);
  for (auto _ : state) {
    k::qgemm_u8s8(M, N, K, o.A.data(), K, o.B.data(), K, true, o.C.data(), N);
    benchmark::DoNotOptimize(o.C.data());
    benchmark::ClobberMemory();
  }
  set_gop_counter(state, M, N, K);
  state.SetLabel(k::qgemm_info());
}

// The full quantized product: int8 kernel plus row/column sums and the zero-point correction.
// args: M, N, K, colsum of the weight precomputed (1) or computed per call (0).
void BM_qgemm_zp_u8s8_onednn(benchmark::State& state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  auto o = make_operands(M, N, K);
  std::vector<int32_t> zb(static_cast<size_t>(N));
  for (size_t j = 0; j < zb.size(); ++j) zb[j] = static_cast<int32_t>(j % 7) - 3;
  // A layer computes its weight's column sums once; arg 3 = 0 measures the cost of doing it per call.
  std::vector<int32_t> colsum(static_cast<size_t>(N));
  k::col_sums_s8(K, N, o.B.data(), K, true, colsum.data());
  const int32_t* cs = state.range(3) != 0 ? colsum.data() : nullptr;
  for (auto _ : state) {
    k::qgemm_zp_u8s8(M, N, K, o.A.data(), K, 128, o.B.data(), K, true, zb, o.C.data(), N, cs);
    benchmark::DoNotOptimize(o.C.data());
    benchmark::ClobberMemory();
  }
  set_gop_counter(state, M, N, K);
}

// The specification loops, on a smaller shape: they are ~1000× slower.
void BM_qgemm_u8s8_reference(benchmark::State& state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  auto o = make_operands(M, N, K);
  for (auto _ : state) {
    k::qgemm_reference_u8s8(M, N, K, o.A.data(), K, o.B.data(), K, true, o.C.data(), N);
    benchmark::DoNotOptimize(o.C.data());
    benchmark::ClobberMemory();
  }
  set_gop_counter(state, M, N, K);
}

void BM_sgemm(benchmark::State& state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> A(static_cast<size_t>(M * K)), B(static_cast<size_t>(K * N)),
      C(static_cast<size_t>(M * N));
  for (auto& a : A) a = u(gen);
  for (auto& b : B) b = u(gen);
  for (auto _ : state) {
    k::sgemm(false, true, M, N, K, 1.0f, A.data(), K, B.data(), K, 0.0f, C.data(), N);
    benchmark::DoNotOptimize(C.data());
    benchmark::ClobberMemory();
  }
  set_gop_counter(state, M, N, K);
  state.SetLabel(k::blas_info());
}

}  // namespace

BENCHMARK(BM_qgemm_u8s8_onednn)
    ->Args({256, 1024, 1024})
    ->Args({1, 1024, 1024})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_qgemm_zp_u8s8_onednn)
    ->Args({256, 1024, 1024, 1})
    ->Args({256, 1024, 1024, 0})
    ->Args({1, 1024, 1024, 1})
    ->Args({1, 1024, 1024, 0})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_qgemm_u8s8_reference)->Args({16, 128, 128})->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_sgemm)->Args({256, 1024, 1024})->Args({1, 1024, 1024})->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();

#include "tinyml/kernels/sgemm.hpp"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/kernels/omp_threads.hpp"

namespace tinyml::kernels {

namespace {
void check_dims(int64_t M, int64_t N, int64_t K, const char* fn) {
  TINYML_CHECK(M >= 0 && N >= 0 && K >= 0, "{}: negative dimension M={} N={} K={}", fn, M, N, K);
  constexpr int64_t kMax = INT32_MAX;
  TINYML_CHECK(M <= kMax && N <= kMax && K <= kMax, "{}: dimension too large for BLAS M={} N={} K={}", fn, M,
               N, K);
}

void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}
}  // namespace

void sgemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                     int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  check_dims(M, N, K, "sgemm_reference");
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        const float a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        acc += static_cast<double>(a) * b;
      }
      const float prev = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
      C[i * ldc + j] = static_cast<float>(alpha * acc) + prev;
    }
}

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  // oneDNN's sgemm allocates a scratch buffer on every call: for a tiny product (the XOR model's
  // 4×8×2) that costs more than the arithmetic, and OpenBLAS's small-matrix kernels win whatever
  // their width. 32³ multiply-adds keeps every product of the reference MLP on the chosen backend.
  constexpr int64_t kTinyGemm = 32 * 32 * 32;
  const bool tiny = M >= 0 && N >= 0 && K >= 0 && M * N <= kTinyGemm && M * N * K <= kTinyGemm;
  const SgemmBackend backend = tiny ? SgemmBackend::OpenBLAS : sgemm_backend();
  sgemm_using(backend, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sgemm_using(SgemmBackend backend, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                 float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc) {
  check_dims(M, N, K, "sgemm");
  if (M == 0 || N == 0) return;
  if (K == 0) {  // BLAS implementations differ on K = 0; the answer is beta·C.
    scale_c(M, N, beta, C, ldc);
    return;
  }
  const auto i = [](int64_t v) { return static_cast<blasint>(v); };
  if (M == 1) {
    // One row: gemv is several times faster than OpenBLAS's gemm for M = 1.
    // C(1×N) = op(B)ᵀ-view · a, with a read with stride lda when A is transposed.
    const blasint inc_a = trans_a ? i(lda) : 1;
    if (trans_b)  // B is N×K: c = B · a
      cblas_sgemv(CblasRowMajor, CblasNoTrans, i(N), i(K), alpha, B, i(ldb), A, inc_a, beta, C, 1);
    else  // B is K×N: c = Bᵀ · a
      cblas_sgemv(CblasRowMajor, CblasTrans, i(K), i(N), alpha, B, i(ldb), A, inc_a, beta, C, 1);
    return;
  }
  if (backend == SgemmBackend::OneDNN) {
    apply_thread_request();
    const dnnl_status_t st =
        dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    TINYML_CHECK(st == dnnl_success, "sgemm: oneDNN failed with status {} for M={} N={} K={}",
                 static_cast<int>(st), M, N, K);
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, i(M),
              i(N), i(K), alpha, A, i(lda), B, i(ldb), beta, C, i(ldc));
}

namespace {
SgemmBackend choose_backend() {
  const char* env = std::getenv("TINYML_SGEMM");
  const std::string_view want = env ? env : "auto";
  if (want == "openblas") return SgemmBackend::OpenBLAS;
  if (want == "onednn") return SgemmBackend::OneDNN;
  TINYML_CHECK(want == "auto", "sgemm: TINYML_SGEMM must be openblas, onednn or auto, got '{}'", want);
  // auto: OpenBLAS, unless it runs narrower kernels than this CPU has (then oneDNN is ~2x faster).
  return narrow_openblas() ? SgemmBackend::OneDNN : SgemmBackend::OpenBLAS;
}
}  // namespace

SgemmBackend sgemm_backend() {
  static const SgemmBackend backend = choose_backend();
  return backend;
}

const char* to_string(SgemmBackend b) { return b == SgemmBackend::OneDNN ? "oneDNN" : "OpenBLAS"; }

namespace {
// The count set_num_threads asked for; 0 until it is called (the libraries' own defaults).
std::atomic<int> g_threads{0};
}  // namespace

int hardware_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

namespace {
// Starts n - 1 threads that wait until all have started, then joins them: the threads a parallel
// region needs. A failure (an address-space or process limit) is an error here, instead of
// libgomp's "Thread creation failed" followed by exit (which then hung in OpenBLAS's exit handler).
void probe_thread_start(int n) {
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  std::string failure;
  try {
    for (int i = 1; i < n; ++i)
      threads.emplace_back([&go] {
        while (!go.load()) std::this_thread::yield();
      });
  } catch (const std::system_error& e) {
    failure = e.what();
  }
  go.store(true);
  for (auto& t : threads) t.join();
  TINYML_CHECK(failure.empty(), "set_num_threads: cannot start {} threads (started {}): {}", n,
               threads.size() + 1, failure);
}
}  // namespace

int resolve_thread_count(int n) {
  TINYML_CHECK(n <= kMaxThreads, "set_num_threads: {} threads is above the limit of {} (this machine has {})",
               n, kMaxThreads, hardware_threads());
  return n <= 0 ? hardware_threads() : std::min(n, hardware_threads());
}

void set_num_threads(int n) {
  n = resolve_thread_count(n);
  probe_thread_start(n);
  g_threads.store(n, std::memory_order_relaxed);
  openblas_set_num_threads(n);  // process-wide
  apply_thread_request();
}

void apply_thread_request() {
  // omp_set_num_threads sets the calling thread's count only, and a thread the user starts
  // begins with OMP_NUM_THREADS; so every thread that is about to enter oneDNN (which Debian
  // builds with OpenMP) applies the request first. The check costs a few nanoseconds.
  const int n = g_threads.load(std::memory_order_relaxed);
  if (n > 0 && omp_get_max_threads() != n) omp_set_num_threads(n);
}

int num_threads() { return openblas_get_num_threads(); }

std::string blas_info() {
  const int threads = openblas_get_num_threads();
  return fmt::format("sgemm: {} (OpenBLAS core {}, {} thread{}{})", to_string(sgemm_backend()),
                     openblas_get_corename(), threads, threads == 1 ? "" : "s",
                     narrow_openblas() ? "; narrower than this CPU" : "");
}

bool narrow_openblas() {
  const std::string_view core = openblas_get_corename();
  __builtin_cpu_init();
  const bool cpu_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  return cpu_avx512 && (core == "Haswell" || core == "Zen" || core == "Sandybridge" || core == "Nehalem");
}

std::string blas_warning() {
  if (!narrow_openblas() || sgemm_backend() == SgemmBackend::OneDNN) return {};
  const char* forced = std::getenv("OPENBLAS_CORETYPE");
  return fmt::format(
      "OpenBLAS runs its {} kernels on a CPU with AVX-512{} and TINYML_SGEMM=openblas is set: fp32 GEMM "
      "runs at about half speed. Unset TINYML_SGEMM to use oneDNN's sgemm (see docs/performance.md).",
      openblas_get_corename(),
      forced ? fmt::format(" (OPENBLAS_CORETYPE={} is set)", forced) : std::string());
}

}  // namespace tinyml::kernels

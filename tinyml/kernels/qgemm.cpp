#include "tinyml/kernels/qgemm.hpp"

#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <limits>
#include <type_traits>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/kernels/sgemm.hpp"

namespace tinyml::kernels {

namespace {

template <class TA>
constexpr int64_t max_k() {
  return std::is_same_v<TA, uint8_t> ? kQgemmMaxK_u8s8 : kQgemmMaxK_s8s8;
}

template <class TA>
constexpr const char* a_type_name() {
  return std::is_same_v<TA, uint8_t> ? "uint8" : "int8";
}

// The checks every entry point shares: sizes, leading dimensions and pointers.
void check_gemm_args(const char* fn, int64_t M, int64_t N, int64_t K, int64_t k_limit, const void* A,
                     int64_t lda, const void* B, int64_t ldb, bool trans_b, const void* C, int64_t ldc) {
  TINYML_CHECK(M >= 0 && N >= 0 && K >= 0, "{}: negative dimension M={} N={} K={}", fn, M, N, K);
  TINYML_CHECK(K <= k_limit, "{}: K={} exceeds {}, past which an int32 sum can overflow", fn, K, k_limit);
  const int64_t b_cols = trans_b ? K : N;
  TINYML_CHECK(lda >= std::max<int64_t>(1, K), "{}: lda={} must be >= max(1, K={})", fn, lda, K);
  TINYML_CHECK(ldb >= std::max<int64_t>(1, b_cols), "{}: ldb={} must be >= max(1, {}={}) (trans_b={})", fn,
               ldb, trans_b ? "K" : "N", b_cols, trans_b);
  TINYML_CHECK(ldc >= std::max<int64_t>(1, N), "{}: ldc={} must be >= max(1, N={})", fn, ldc, N);
  TINYML_CHECK(A != nullptr || M * K == 0, "{}: A is null for M={} K={}", fn, M, K);
  TINYML_CHECK(B != nullptr || K * N == 0, "{}: B is null for K={} N={}", fn, K, N);
  TINYML_CHECK(C != nullptr || M * N == 0, "{}: C is null for M={} N={}", fn, M, N);
}

// Zero points must keep every factor (q − z) inside [−255, 255], the bound kQgemmMaxK_zero_point assumes.
template <class TA>
void check_zero_points(const char* fn, int64_t N, int32_t za, std::span<const int32_t> zb) {
  constexpr int32_t lo = std::numeric_limits<TA>::min();
  constexpr int32_t hi = std::numeric_limits<TA>::max();
  TINYML_CHECK(za >= lo && za <= hi, "{}: za={} outside the {} range [{}, {}]", fn, za, a_type_name<TA>(), lo,
               hi);
  TINYML_CHECK(zb.size() == 1 || static_cast<int64_t>(zb.size()) == N,
               "{}: zb has {} entries; expected 1 (per tensor) or N={} (per column)", fn, zb.size(), N);
  for (const int32_t z : zb)
    TINYML_CHECK(z >= -128 && z <= 127, "{}: zb entry {} outside the int8 range [-128, 127]", fn, z);
}

inline int32_t b_at(const int8_t* B, int64_t ldb, bool trans_b, int64_t k, int64_t j) {
  return trans_b ? B[j * ldb + k] : B[k * ldb + j];
}

// The definition: C[i][j] = Σ_k (A[i][k] − za)(op(B)[k][j] − zb[j]), summed in int64 so the oracle
// itself cannot overflow; the K limit checked by the callers guarantees the result fits in int32.
template <class TA>
void reference_impl(int64_t M, int64_t N, int64_t K, const TA* A, int64_t lda, int32_t za, const int8_t* B,
                    int64_t ldb, bool trans_b, std::span<const int32_t> zb, int32_t* C, int64_t ldc) {
  // BEGIN SOLUTION 10: reference_impl: C = sum_k (A - za)(op(B) - zb) in int64, the specification
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      const int64_t zbj = zb.size() == 1 ? zb[0] : zb[static_cast<size_t>(j)];
      int64_t acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += (static_cast<int64_t>(A[i * lda + k]) - za) * (b_at(B, ldb, trans_b, k, j) - zbj);
      C[i * ldc + j] = static_cast<int32_t>(acc);
    }
  // END SOLUTION
}

constexpr int32_t kZero[1] = {0};

template <class TA>
dnnl_status_t onednn_call(int64_t M, int64_t N, int64_t K, const TA* A, int64_t lda, const int8_t* B,
                          int64_t ldb, bool trans_b, int32_t* C, int64_t ldc) {
  // Offsets ao = bo = 0 and a fixed ('F') C offset of 0: the kernel computes only Σ qa·qb,
  // zero points are applied afterwards by zero_point_correct.
  const char tb = trans_b ? 'T' : 'N';
  apply_thread_request();
  if constexpr (std::is_same_v<TA, uint8_t>)
    return dnnl_gemm_u8s8s32('N', tb, 'F', M, N, K, 1.0f, A, lda, 0, B, ldb, 0, 0.0f, C, ldc, kZero);
  else
    return dnnl_gemm_s8s8s32('N', tb, 'F', M, N, K, 1.0f, A, lda, 0, B, ldb, 0, 0.0f, C, ldc, kZero);
}

template <class TA>
void onednn_checked(const char* fn, int64_t M, int64_t N, int64_t K, const TA* A, int64_t lda,
                    const int8_t* B, int64_t ldb, bool trans_b, int32_t* C, int64_t ldc) {
  const dnnl_status_t st = onednn_call(M, N, K, A, lda, B, ldb, trans_b, C, ldc);
  TINYML_CHECK(st == dnnl_success, "{}: oneDNN failed with status {} (M={} N={} K={} lda={} ldb={} ldc={})",
               fn, static_cast<int>(st), M, N, K, lda, ldb, ldc);
}

// Runs oneDNN on operands that make every pair of u8·s8 products overflow int16, in the shapes
// that reach its different code paths (a single row, a full block, both layouts of B), and
// compares with the reference.
template <class TA>
bool probe_exact() {
  constexpr int64_t K = 64;
  const int64_t shapes[][2] = {{1, 8}, {32, 48}};
  for (const auto& mn : shapes)
    for (const bool trans_b : {false, true}) {
      const int64_t M = mn[0], N = mn[1];
      // A at its extremes (255 for u8; −128 for s8, which oneDNN shifts to 0 internally, and 127).
      std::vector<TA> A(static_cast<size_t>(M * K));
      for (size_t t = 0; t < A.size(); ++t)
        A[t] = (t / K) % 2 == 0 ? std::numeric_limits<TA>::max() : std::numeric_limits<TA>::min();
      // Columns of op(B) alternate between all 127 and all −128.
      std::vector<int8_t> B(static_cast<size_t>(K * N));
      for (int64_t k = 0; k < K; ++k)
        for (int64_t j = 0; j < N; ++j)
          B[static_cast<size_t>(trans_b ? j * K + k : k * N + j)] = j % 2 == 0 ? 127 : -128;
      const int64_t ldb = trans_b ? K : N;
      std::vector<int32_t> fast(static_cast<size_t>(M * N)), ref(fast.size());
      if (onednn_call(M, N, K, A.data(), K, B.data(), ldb, trans_b, fast.data(), N) != dnnl_success)
        return false;
      reference_impl(M, N, K, A.data(), K, 0, B.data(), ldb, trans_b, std::span<const int32_t>(kZero),
                     ref.data(), N);
      if (fast != ref) return false;
    }
  return true;
}

bool onednn_exact_u8s8() {
  static const bool exact = probe_exact<uint8_t>();
  return exact;
}

bool onednn_exact_s8s8() {
  static const bool exact = probe_exact<int8_t>();
  return exact;
}

template <class TA>
void qgemm_impl(const char* fn, int64_t M, int64_t N, int64_t K, const TA* A, int64_t lda, const int8_t* B,
                int64_t ldb, bool trans_b, int32_t* C, int64_t ldc) {
  check_gemm_args(fn, M, N, K, max_k<TA>(), A, lda, B, ldb, trans_b, C, ldc);
  if (M == 0 || N == 0) return;
  if (K == 0) {  // an empty sum; not every GEMM implementation agrees on it
    for (int64_t i = 0; i < M; ++i) std::fill_n(C + i * ldc, N, 0);
    return;
  }
  const bool exact = std::is_same_v<TA, uint8_t> ? onednn_exact_u8s8() : onednn_exact_s8s8();
  if (!exact) {
    reference_impl(M, N, K, A, lda, 0, B, ldb, trans_b, std::span<const int32_t>(kZero), C, ldc);
    return;
  }
  onednn_checked(fn, M, N, K, A, lda, B, ldb, trans_b, C, ldc);
}

template <class TA>
void row_sums_impl(const char* fn, int64_t M, int64_t K, const TA* A, int64_t lda, int32_t* out) {
  // BEGIN SOLUTION 10: row_sums_impl: check the arguments, then out[i] = sum_k A[i][k]
  TINYML_CHECK(M >= 0 && K >= 0, "{}: negative dimension M={} K={}", fn, M, K);
  TINYML_CHECK(K <= kQgemmMaxK_u8s8, "{}: K={} exceeds {}, past which an int32 sum can overflow", fn, K,
               kQgemmMaxK_u8s8);
  TINYML_CHECK(lda >= std::max<int64_t>(1, K), "{}: lda={} must be >= max(1, K={})", fn, lda, K);
  TINYML_CHECK(A != nullptr || M * K == 0, "{}: A is null for M={} K={}", fn, M, K);
  TINYML_CHECK(out != nullptr || M == 0, "{}: out is null for M={}", fn, M);
  for (int64_t i = 0; i < M; ++i) {
    int32_t s = 0;
    for (int64_t k = 0; k < K; ++k) s += A[i * lda + k];
    out[i] = s;
  }
  // END SOLUTION
}

template <class TA>
void qgemm_zp_impl(const char* fn, int64_t M, int64_t N, int64_t K, const TA* A, int64_t lda, int32_t za,
                   const int8_t* B, int64_t ldb, bool trans_b, std::span<const int32_t> zb, int32_t* C,
                   int64_t ldc, const int32_t* colsum_b) {
  check_gemm_args(fn, M, N, K, kQgemmMaxK_zero_point, A, lda, B, ldb, trans_b, C, ldc);
  check_zero_points<TA>(fn, N, za, zb);
  if constexpr (std::is_same_v<TA, uint8_t>) {
    qgemm_u8s8(M, N, K, A, lda, B, ldb, trans_b, C, ldc);
  } else {
    qgemm_s8s8(M, N, K, A, lda, B, ldb, trans_b, C, ldc);
  }
  // A sum is only needed when the zero point that multiplies it is nonzero (symmetric weights: zb = 0).
  std::vector<int32_t> rowsum(static_cast<size_t>(M), 0), colsum;
  if (std::any_of(zb.begin(), zb.end(), [](int32_t z) { return z != 0; }))
    row_sums_impl(fn, M, K, A, lda, rowsum.data());
  if (colsum_b == nullptr) {
    colsum.assign(static_cast<size_t>(N), 0);
    if (za != 0) col_sums_s8(K, N, B, ldb, trans_b, colsum.data());
    colsum_b = colsum.data();
  }
  zero_point_correct(M, N, K, za, zb, rowsum.data(), colsum_b, C, ldc);
}

}  // namespace

void qgemm_reference_u8s8(int64_t M, int64_t N, int64_t K, const uint8_t* A, int64_t lda, const int8_t* B,
                          int64_t ldb, bool trans_b, int32_t* C, int64_t ldc) {
  check_gemm_args("qgemm_reference_u8s8", M, N, K, kQgemmMaxK_u8s8, A, lda, B, ldb, trans_b, C, ldc);
  reference_impl(M, N, K, A, lda, 0, B, ldb, trans_b, std::span<const int32_t>(kZero), C, ldc);
}

void qgemm_reference_s8s8(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B,
                          int64_t ldb, bool trans_b, int32_t* C, int64_t ldc) {
  check_gemm_args("qgemm_reference_s8s8", M, N, K, kQgemmMaxK_s8s8, A, lda, B, ldb, trans_b, C, ldc);
  reference_impl(M, N, K, A, lda, 0, B, ldb, trans_b, std::span<const int32_t>(kZero), C, ldc);
}

void qgemm_u8s8(int64_t M, int64_t N, int64_t K, const uint8_t* A, int64_t lda, const int8_t* B, int64_t ldb,
                bool trans_b, int32_t* C, int64_t ldc) {
  qgemm_impl("qgemm_u8s8", M, N, K, A, lda, B, ldb, trans_b, C, ldc);
}

void qgemm_s8s8(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B, int64_t ldb,
                bool trans_b, int32_t* C, int64_t ldc) {
  qgemm_impl("qgemm_s8s8", M, N, K, A, lda, B, ldb, trans_b, C, ldc);
}

bool qgemm_onednn_exact() { return onednn_exact_u8s8() && onednn_exact_s8s8(); }

std::string qgemm_info() {
  const dnnl_version_t* v = dnnl_version();
  const char* isa = "other";
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41:
      isa = "sse41";
      break;
    case dnnl_cpu_isa_avx:
      isa = "avx";
      break;
    case dnnl_cpu_isa_avx2:
      isa = "avx2";
      break;
    case dnnl_cpu_isa_avx2_vnni:
      isa = "avx2_vnni";
      break;
    case dnnl_cpu_isa_avx512_core:
      isa = "avx512_core";
      break;
    case dnnl_cpu_isa_avx512_core_vnni:
      isa = "avx512_core_vnni";
      break;
    case dnnl_cpu_isa_avx512_core_bf16:
      isa = "avx512_core_bf16";
      break;
    case dnnl_cpu_isa_avx512_core_amx:
      isa = "avx512_core_amx";
      break;
    default:
      break;
  }
  return fmt::format("oneDNN {}.{}.{}, ISA {}, {}", v->major, v->minor, v->patch, isa,
                     qgemm_onednn_exact() ? "exact int32 accumulation"
                                          : "int16 saturation detected: int8 GEMM runs the reference loops");
}

void row_sums_u8(int64_t M, int64_t K, const uint8_t* A, int64_t lda, int32_t* out) {
  row_sums_impl("row_sums_u8", M, K, A, lda, out);
}

void row_sums_s8(int64_t M, int64_t K, const int8_t* A, int64_t lda, int32_t* out) {
  row_sums_impl("row_sums_s8", M, K, A, lda, out);
}

void col_sums_s8(int64_t K, int64_t N, const int8_t* B, int64_t ldb, bool trans_b, int32_t* out) {
  // BEGIN SOLUTION 10: col_sums_s8: check the arguments, then out[j] = sum_k op(B)[k][j]
  constexpr const char* fn = "col_sums_s8";
  TINYML_CHECK(K >= 0 && N >= 0, "{}: negative dimension K={} N={}", fn, K, N);
  TINYML_CHECK(K <= kQgemmMaxK_s8s8, "{}: K={} exceeds {}, past which an int32 sum can overflow", fn, K,
               kQgemmMaxK_s8s8);
  const int64_t b_cols = trans_b ? K : N;
  TINYML_CHECK(ldb >= std::max<int64_t>(1, b_cols), "{}: ldb={} must be >= max(1, {}={}) (trans_b={})", fn,
               ldb, trans_b ? "K" : "N", b_cols, trans_b);
  TINYML_CHECK(B != nullptr || K * N == 0, "{}: B is null for K={} N={}", fn, K, N);
  TINYML_CHECK(out != nullptr || N == 0, "{}: out is null for N={}", fn, N);
  std::fill_n(out, N, 0);
  if (trans_b) {  // B is N×K: a column of op(B) is a contiguous row of B
    for (int64_t j = 0; j < N; ++j) {
      int32_t s = 0;
      for (int64_t k = 0; k < K; ++k) s += B[j * ldb + k];
      out[j] = s;
    }
  } else {  // walk B row by row so memory is read in order
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) out[j] += B[k * ldb + j];
  }
  // END SOLUTION
}

void zero_point_correct(int64_t M, int64_t N, int64_t K, int32_t za, std::span<const int32_t> zb,
                        const int32_t* rowsum_a, const int32_t* colsum_b, int32_t* C, int64_t ldc) {
  // BEGIN SOLUTION 10: zero_point_correct: C += K*za*zb - zb*rowsum_a - za*colsum_b, modulo 2^32
  constexpr const char* fn = "zero_point_correct";
  TINYML_CHECK(M >= 0 && N >= 0 && K >= 0, "{}: negative dimension M={} N={} K={}", fn, M, N, K);
  TINYML_CHECK(K <= kQgemmMaxK_zero_point, "{}: K={} exceeds {}, past which an int32 sum can overflow", fn, K,
               kQgemmMaxK_zero_point);
  TINYML_CHECK(zb.size() == 1 || static_cast<int64_t>(zb.size()) == N,
               "{}: zb has {} entries; expected 1 (per tensor) or N={} (per column)", fn, zb.size(), N);
  TINYML_CHECK(ldc >= std::max<int64_t>(1, N), "{}: ldc={} must be >= max(1, N={})", fn, ldc, N);
  TINYML_CHECK(
      (rowsum_a != nullptr || M == 0) && (colsum_b != nullptr || N == 0) && (C != nullptr || M * N == 0),
      "{}: null rowsum_a, colsum_b or C for M={} N={}", fn, M, N);
  // Computed modulo 2^32 (unsigned arithmetic, where wrap-around is defined): a partial sum may
  // leave int32, but the true result lies inside it (K <= kQgemmMaxK_zero_point), and the int32
  // value with the right residue mod 2^32 is unique. Plain 32-bit lanes also vectorize well.
  const bool per_column = zb.size() != 1;
  std::vector<uint32_t> col_term(static_cast<size_t>(N));  // K·za·zb[j] − za·colsum_b[j]
  for (int64_t j = 0; j < N; ++j) {
    const auto zbj = static_cast<uint32_t>(per_column ? zb[static_cast<size_t>(j)] : zb[0]);
    col_term[static_cast<size_t>(j)] = static_cast<uint32_t>(K) * static_cast<uint32_t>(za) * zbj -
                                       static_cast<uint32_t>(za) * static_cast<uint32_t>(colsum_b[j]);
  }
  const uint32_t* ct = col_term.data();
  for (int64_t i = 0; i < M; ++i) {
    const auto r = static_cast<uint32_t>(rowsum_a[i]);
    int32_t* c = C + i * ldc;
    if (per_column) {
      for (int64_t j = 0; j < N; ++j)
        c[j] = static_cast<int32_t>(static_cast<uint32_t>(c[j]) -
                                    static_cast<uint32_t>(zb[static_cast<size_t>(j)]) * r + ct[j]);
    } else {
      const uint32_t zr = static_cast<uint32_t>(zb[0]) * r;
      for (int64_t j = 0; j < N; ++j) c[j] = static_cast<int32_t>(static_cast<uint32_t>(c[j]) - zr + ct[j]);
    }
  }
  // END SOLUTION
}

void qgemm_zp_reference_u8s8(int64_t M, int64_t N, int64_t K, const uint8_t* A, int64_t lda, int32_t za,
                             const int8_t* B, int64_t ldb, bool trans_b, std::span<const int32_t> zb,
                             int32_t* C, int64_t ldc) {
  constexpr const char* fn = "qgemm_zp_reference_u8s8";
  check_gemm_args(fn, M, N, K, kQgemmMaxK_zero_point, A, lda, B, ldb, trans_b, C, ldc);
  check_zero_points<uint8_t>(fn, N, za, zb);
  reference_impl(M, N, K, A, lda, za, B, ldb, trans_b, zb, C, ldc);
}

void qgemm_zp_reference_s8s8(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, int32_t za,
                             const int8_t* B, int64_t ldb, bool trans_b, std::span<const int32_t> zb,
                             int32_t* C, int64_t ldc) {
  constexpr const char* fn = "qgemm_zp_reference_s8s8";
  check_gemm_args(fn, M, N, K, kQgemmMaxK_zero_point, A, lda, B, ldb, trans_b, C, ldc);
  check_zero_points<int8_t>(fn, N, za, zb);
  reference_impl(M, N, K, A, lda, za, B, ldb, trans_b, zb, C, ldc);
}

void qgemm_zp_u8s8(int64_t M, int64_t N, int64_t K, const uint8_t* A, int64_t lda, int32_t za,
                   const int8_t* B, int64_t ldb, bool trans_b, std::span<const int32_t> zb, int32_t* C,
                   int64_t ldc, const int32_t* colsum_b) {
  qgemm_zp_impl("qgemm_zp_u8s8", M, N, K, A, lda, za, B, ldb, trans_b, zb, C, ldc, colsum_b);
}

void qgemm_zp_s8s8(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, int32_t za, const int8_t* B,
                   int64_t ldb, bool trans_b, std::span<const int32_t> zb, int32_t* C, int64_t ldc,
                   const int32_t* colsum_b) {
  qgemm_zp_impl("qgemm_zp_s8s8", M, N, K, A, lda, za, B, ldb, trans_b, zb, C, ldc, colsum_b);
}

}  // namespace tinyml::kernels

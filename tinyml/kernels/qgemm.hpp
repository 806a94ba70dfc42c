// qgemm: the int8 × int8 → int32 matrix multiply (reference loops and oneDNN) and the zero-point algebra.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace tinyml::kernels {

// All matrices are row-major. A is M×K with leading dimension lda (lda >= K). B is K×N
// (ldb >= N) or, when trans_b, N×K (ldb >= K): the layout of a Linear weight, (out, in).
// C is M×N (ldc >= N) and is overwritten: C = A · op(B), every product and sum exact in int32.
//
// The largest K for which no int32 sum can overflow:
//   u8·s8: K · 255 · 128 <= 2^31 − 1;  s8·s8: K · 128 · 128 <= 2^31 − 1;
//   with zero points, |(qa − za)(qb − zb)| <= 255 · 255, so K · 65025 <= 2^31 − 1.
inline constexpr int64_t kQgemmMaxK_u8s8 = 65793;
inline constexpr int64_t kQgemmMaxK_s8s8 = 131071;
inline constexpr int64_t kQgemmMaxK_zero_point = 33025;

// ---- the specification: plain loops, the oracle every fast path is tested against ----
void qgemm_reference_u8s8(int64_t M, int64_t N, int64_t K, const uint8_t* A, int64_t lda, const int8_t* B,
                          int64_t ldb, bool trans_b, int32_t* C, int64_t ldc);
void qgemm_reference_s8s8(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B,
                          int64_t ldb, bool trans_b, int32_t* C, int64_t ldc);

// ---- the fast path: oneDNN's dnnl_gemm_u8s8s32 / dnnl_gemm_s8s8s32 ----
// On x86 CPUs without VNNI, oneDNN's u8·s8 kernels add pairs of products in saturating int16
// (VPMADDUBSW): 255·127 + 255·127 = 64770 does not fit, so results can be silently wrong.
// qgemm_onednn_exact() probes that once with the worst-case operands; when the probe fails these
// functions run the reference loops instead, so results are always exact (only speed is lost).
void qgemm_u8s8(int64_t M, int64_t N, int64_t K, const uint8_t* A, int64_t lda, const int8_t* B, int64_t ldb,
                bool trans_b, int32_t* C, int64_t ldc);
void qgemm_s8s8(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, const int8_t* B, int64_t ldb,
                bool trans_b, int32_t* C, int64_t ldc);

// True when oneDNN's int8 GEMMs return exact int32 sums on this CPU (probed once, then cached).
bool qgemm_onednn_exact();
// "oneDNN 2.6.3, ISA avx512_core_vnni, exact int32 accumulation" — for `tinyml bench` and reports.
std::string qgemm_info();

// ---- zero points (Jacob et al. 2018) ----
// With real values x = s·(q − z), a product of two quantized matrices needs
//   Σ_k (qa − za)(qb − zb) = Σ_k qa·qb − zb·rowsum(A) − za·colsum(B) + K·za·zb,
// so only Σ qa·qb runs in the int8 kernel; the sums cost O(M·K + K·N) next to its O(M·N·K).
// zb holds one zero point for all of B, or one per column j of op(B) (per output channel).

// out[i] = Σ_k A[i][k]   (M entries)
void row_sums_u8(int64_t M, int64_t K, const uint8_t* A, int64_t lda, int32_t* out);
void row_sums_s8(int64_t M, int64_t K, const int8_t* A, int64_t lda, int32_t* out);
// out[j] = Σ_k op(B)[k][j]   (N entries)
void col_sums_s8(int64_t K, int64_t N, const int8_t* B, int64_t ldb, bool trans_b, int32_t* out);

// In place: C[i][j] = acc[i][j] − zb[j]·rowsum_a[i] − za·colsum_b[j] + K·za·zb[j], where C holds
// acc = Σ qa·qb on entry. zb.size() is 1 (per tensor) or N (per column). K <= kQgemmMaxK_zero_point.
void zero_point_correct(int64_t M, int64_t N, int64_t K, int32_t za, std::span<const int32_t> zb,
                        const int32_t* rowsum_a, const int32_t* colsum_b, int32_t* C, int64_t ldc);

// C[i][j] = Σ_k (A[i][k] − za)(op(B)[k][j] − zb[j]) straight from the definition: the oracle.
// za must lie in A's type range and zb in int8's, so that every factor fits in [−255, 255].
void qgemm_zp_reference_u8s8(int64_t M, int64_t N, int64_t K, const uint8_t* A, int64_t lda, int32_t za,
                             const int8_t* B, int64_t ldb, bool trans_b, std::span<const int32_t> zb,
                             int32_t* C, int64_t ldc);
void qgemm_zp_reference_s8s8(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, int32_t za,
                             const int8_t* B, int64_t ldb, bool trans_b, std::span<const int32_t> zb,
                             int32_t* C, int64_t ldc);
// The same value through qgemm_u8s8 / qgemm_s8s8, the sums and zero_point_correct.
// colsum_b, when given, holds col_sums_s8 of B (N entries): a layer computes it once for its
// weight instead of on every call, which matters at batch 1 where the sums cost more than the GEMM.
void qgemm_zp_u8s8(int64_t M, int64_t N, int64_t K, const uint8_t* A, int64_t lda, int32_t za,
                   const int8_t* B, int64_t ldb, bool trans_b, std::span<const int32_t> zb, int32_t* C,
                   int64_t ldc, const int32_t* colsum_b = nullptr);
void qgemm_zp_s8s8(int64_t M, int64_t N, int64_t K, const int8_t* A, int64_t lda, int32_t za, const int8_t* B,
                   int64_t ldb, bool trans_b, std::span<const int32_t> zb, int32_t* C, int64_t ldc,
                   const int32_t* colsum_b = nullptr);

}  // namespace tinyml::kernels

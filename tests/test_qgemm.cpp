// Tests of the int8 GEMM kernels: oneDNN fast path against the reference loops, bit for bit.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "tests/support/bits.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/kernels/qgemm.hpp"

namespace k = tinyml::kernels;

namespace {

// mt19937's output sequence is fixed by the standard, so a seed gives the same matrices everywhere.
using tinyml_test::random_bytes;

struct Shape3 {
  int64_t M, N, K;
};

// M = 1 (the batch-1 path), odd M/N/K, K not a multiple of 4 (VNNI consumes 4 bytes at a time),
// K = 1, and sizes past one register block in every direction.
const Shape3 kShapes[] = {{1, 1, 1},     {1, 7, 13},  {1, 64, 255},   {2, 3, 2},
                          {3, 5, 7},     {5, 1, 9},   {16, 16, 16},   {17, 33, 65},
                          {31, 47, 129}, {64, 96, 3}, {67, 129, 259}, {128, 64, 1000}};

// Runs fast and reference on the same operands with padded leading dimensions (the padding holds
// garbage that must never be read into the result) and expects identical int32 outputs.
template <class TA>
void expect_fast_equals_reference(const Shape3& s, bool trans_b, std::mt19937& gen) {
  const int64_t lda = s.K + 3, ldc = s.N + 2;
  const int64_t ldb = (trans_b ? s.K : s.N) + 5;
  const int64_t b_rows = trans_b ? s.N : s.K;
  const auto A = random_bytes<TA>(static_cast<size_t>(s.M * lda), gen);
  const auto B = random_bytes<int8_t>(static_cast<size_t>(b_rows * ldb), gen);
  std::vector<int32_t> fast(static_cast<size_t>(s.M * ldc), -7), ref(fast.size(), -7);
  if constexpr (std::is_same_v<TA, uint8_t>) {
    k::qgemm_u8s8(s.M, s.N, s.K, A.data(), lda, B.data(), ldb, trans_b, fast.data(), ldc);
    k::qgemm_reference_u8s8(s.M, s.N, s.K, A.data(), lda, B.data(), ldb, trans_b, ref.data(), ldc);
  } else {
    k::qgemm_s8s8(s.M, s.N, s.K, A.data(), lda, B.data(), ldb, trans_b, fast.data(), ldc);
    k::qgemm_reference_s8s8(s.M, s.N, s.K, A.data(), lda, B.data(), ldb, trans_b, ref.data(), ldc);
  }
  ASSERT_EQ(fast, ref) << "M=" << s.M << " N=" << s.N << " K=" << s.K << " trans_b=" << trans_b;
  // The padding columns of C are left alone.
  for (int64_t i = 0; i < s.M; ++i)
    for (int64_t j = s.N; j < ldc; ++j) ASSERT_EQ(fast[static_cast<size_t>(i * ldc + j)], -7);
}

}  // namespace

TEST(Qgemm, OneDnnAccumulatesExactlyOnThisCpu) {
  // Fails on CPUs where oneDNN's u8·s8 kernels saturate pairs of products in int16 (x86 without
  // VNNI). Results stay correct there (the reference loops take over) but the fast path is lost.
  EXPECT_TRUE(k::qgemm_onednn_exact()) << k::qgemm_info();
  EXPECT_NE(k::qgemm_info().find("oneDNN"), std::string::npos);
}

TEST(Qgemm, HandComputed2x3x2) {
  // A = [[1 2 3], [4 5 6]], B = [[7 −8], [9 10], [−11 12]]:
  // C[0] = [7 + 18 − 33, −8 + 20 + 36] = [−8, 48]; C[1] = [28 + 45 − 66, −32 + 50 + 72] = [7, 90].
  const uint8_t A[] = {1, 2, 3, 4, 5, 6};
  const int8_t B[] = {7, -8, 9, 10, -11, 12};
  const int8_t Bt[] = {7, 9, -11, -8, 10, 12};  // the same B stored N×K
  const std::vector<int32_t> expected = {-8, 48, 7, 90};
  std::vector<int32_t> C(4);
  k::qgemm_reference_u8s8(2, 2, 3, A, 3, B, 2, false, C.data(), 2);
  EXPECT_EQ(C, expected);
  k::qgemm_u8s8(2, 2, 3, A, 3, B, 2, false, C.data(), 2);
  EXPECT_EQ(C, expected);
  k::qgemm_u8s8(2, 2, 3, A, 3, Bt, 3, true, C.data(), 2);
  EXPECT_EQ(C, expected);
  const int8_t As[] = {1, 2, 3, 4, 5, 6};
  k::qgemm_s8s8(2, 2, 3, As, 3, B, 2, false, C.data(), 2);
  EXPECT_EQ(C, expected);

  // With za = 2, zb = 1: (A − 2) = [[−1 0 1], [2 3 4]], (B − 1) = [[6 −9], [8 9], [−12 11]]
  // → [[−6 + 0 − 12, 9 + 0 + 11], [12 + 24 − 48, −18 + 27 + 44]] = [[−18, 20], [−12, 53]].
  // The algebra gives the same: rowsum(A) = [6, 15], colsum(B) = [5, 14], K·za·zb = 6,
  // e.g. C[0][0] = −8 − 1·6 − 2·5 + 6 = −18.
  const std::vector<int32_t> expected_zp = {-18, 20, -12, 53};
  const int32_t zb[] = {1};
  k::qgemm_zp_reference_u8s8(2, 2, 3, A, 3, 2, B, 2, false, zb, C.data(), 2);
  EXPECT_EQ(C, expected_zp);
  k::qgemm_zp_u8s8(2, 2, 3, A, 3, 2, B, 2, false, zb, C.data(), 2);
  EXPECT_EQ(C, expected_zp);
  k::qgemm_zp_s8s8(2, 2, 3, As, 3, 2, Bt, 3, true, zb, C.data(), 2);
  EXPECT_EQ(C, expected_zp);

  int32_t rows[2], cols[2];
  k::row_sums_u8(2, 3, A, 3, rows);
  EXPECT_EQ(rows[0], 6);
  EXPECT_EQ(rows[1], 15);
  k::col_sums_s8(3, 2, B, 2, false, cols);
  EXPECT_EQ(cols[0], 5);
  EXPECT_EQ(cols[1], 14);
  k::col_sums_s8(3, 2, Bt, 3, true, cols);
  EXPECT_EQ(cols[0], 5);
  EXPECT_EQ(cols[1], 14);
}

TEST(Qgemm, FastEqualsReferenceOnRandomShapes) {
  std::mt19937 gen(1234);
  for (const auto& s : kShapes)
    for (const bool trans_b : {false, true}) {
      expect_fast_equals_reference<uint8_t>(s, trans_b, gen);
      expect_fast_equals_reference<int8_t>(s, trans_b, gen);
    }
}

TEST(Qgemm, ExtremeValues) {
  // Every pair of products at the edge of int16 (255·127·2 = 64770, 255·(−128)·2 = −65280,
  // (−128)·(−128)·2 = 32768): a kernel that saturates intermediate sums cannot pass this.
  for (const bool trans_b : {false, true}) {
    const int64_t M = 9, N = 11, K = 1027;
    std::vector<uint8_t> Au(static_cast<size_t>(M * K));
    std::vector<int8_t> As(Au.size()), B(static_cast<size_t>(K * N));
    for (size_t t = 0; t < Au.size(); ++t) {
      Au[t] = (t / K) % 3 == 2 ? 0 : 255;
      As[t] = (t / K) % 3 == 2 ? 127 : -128;
    }
    for (int64_t kk = 0; kk < K; ++kk)
      for (int64_t j = 0; j < N; ++j)
        B[static_cast<size_t>(trans_b ? j * K + kk : kk * N + j)] = j % 2 == 0 ? 127 : -128;
    const int64_t ldb = trans_b ? K : N;
    std::vector<int32_t> fast(static_cast<size_t>(M * N)), ref(fast.size());
    k::qgemm_u8s8(M, N, K, Au.data(), K, B.data(), ldb, trans_b, fast.data(), N);
    k::qgemm_reference_u8s8(M, N, K, Au.data(), K, B.data(), ldb, trans_b, ref.data(), N);
    EXPECT_EQ(fast, ref);
    EXPECT_EQ(ref[0], 255 * 127 * K);
    EXPECT_EQ(ref[1], 255 * -128 * K);
    EXPECT_EQ(ref[2 * N], 0);  // row of zeros
    k::qgemm_s8s8(M, N, K, As.data(), K, B.data(), ldb, trans_b, fast.data(), N);
    k::qgemm_reference_s8s8(M, N, K, As.data(), K, B.data(), ldb, trans_b, ref.data(), N);
    EXPECT_EQ(fast, ref);
    EXPECT_EQ(ref[1], 128 * 128 * K);
  }
}

TEST(Qgemm, LargestKStillFitsInt32) {
  // At K = kQgemmMaxK_u8s8, Σ 255·(−128) = −2147483520 >= INT32_MIN: the limit is tight and safe.
  const int64_t K = k::kQgemmMaxK_u8s8;
  std::vector<uint8_t> A(static_cast<size_t>(K), 255);
  std::vector<int8_t> B(static_cast<size_t>(K), -128);
  int32_t c = 0;
  k::qgemm_u8s8(1, 1, K, A.data(), K, B.data(), 1, false, &c, 1);
  EXPECT_EQ(c, -2147483520);
  EXPECT_THROW(k::qgemm_u8s8(1, 1, K + 1, A.data(), K + 1, B.data(), 1, false, &c, 1), tinyml::Error);

  // With zero points: A = 255, za = 0, B = −128, zb = 127 → each term 255·(−255) = −65025 and
  // K = 33025 gives −2147450625, still inside int32.
  const int64_t Kz = k::kQgemmMaxK_zero_point;
  const int32_t zb[] = {127};
  k::qgemm_zp_u8s8(1, 1, Kz, A.data(), Kz, 0, B.data(), 1, false, zb, &c, 1);
  EXPECT_EQ(c, -2147450625);
  int32_t r = 0;
  k::qgemm_zp_reference_u8s8(1, 1, Kz, A.data(), Kz, 0, B.data(), 1, false, zb, &r, 1);
  EXPECT_EQ(r, c);
}

TEST(Qgemm, ZeroPointCorrectionEqualsDefinition) {
  std::mt19937 gen(99);
  for (const auto& s : kShapes)
    for (const bool trans_b : {false, true})
      for (const bool per_column : {false, true}) {
        const int64_t ldb = trans_b ? s.K : s.N;
        const auto Au = random_bytes<uint8_t>(static_cast<size_t>(s.M * s.K), gen);
        const auto As = random_bytes<int8_t>(Au.size(), gen);
        const auto B = random_bytes<int8_t>(static_cast<size_t>(s.K * s.N), gen);
        std::vector<int32_t> zb(per_column ? static_cast<size_t>(s.N) : 1);
        for (auto& z : zb) z = static_cast<int32_t>(gen() % 256) - 128;
        const int32_t za_u = static_cast<int32_t>(gen() % 256);
        const int32_t za_s = static_cast<int32_t>(gen() % 256) - 128;
        std::vector<int32_t> fast(static_cast<size_t>(s.M * s.N)), ref(fast.size());
        k::qgemm_zp_u8s8(s.M, s.N, s.K, Au.data(), s.K, za_u, B.data(), ldb, trans_b, zb, fast.data(), s.N);
        k::qgemm_zp_reference_u8s8(s.M, s.N, s.K, Au.data(), s.K, za_u, B.data(), ldb, trans_b, zb,
                                   ref.data(), s.N);
        ASSERT_EQ(fast, ref) << "u8s8 M=" << s.M << " N=" << s.N << " K=" << s.K;
        k::qgemm_zp_s8s8(s.M, s.N, s.K, As.data(), s.K, za_s, B.data(), ldb, trans_b, zb, fast.data(), s.N);
        k::qgemm_zp_reference_s8s8(s.M, s.N, s.K, As.data(), s.K, za_s, B.data(), ldb, trans_b, zb,
                                   ref.data(), s.N);
        ASSERT_EQ(fast, ref) << "s8s8 M=" << s.M << " N=" << s.N << " K=" << s.K;
        // Column sums computed once ahead (as a layer does for its weight) give the same result.
        std::vector<int32_t> colsum(static_cast<size_t>(s.N));
        k::col_sums_s8(s.K, s.N, B.data(), ldb, trans_b, colsum.data());
        k::qgemm_zp_s8s8(s.M, s.N, s.K, As.data(), s.K, za_s, B.data(), ldb, trans_b, zb, fast.data(), s.N,
                         colsum.data());
        ASSERT_EQ(fast, ref) << "s8s8 with colsum M=" << s.M << " N=" << s.N << " K=" << s.K;
      }
}

TEST(Qgemm, ZeroPointExtremes) {
  // The four corners of (qa − za)(qb − zb): 0/255 against −128/127 with zero points at the
  // opposite ends, so every factor is ±255.
  const int64_t M = 4, N = 4, K = 37;
  std::vector<uint8_t> A(static_cast<size_t>(M * K));
  std::vector<int8_t> B(static_cast<size_t>(K * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t kk = 0; kk < K; ++kk) A[static_cast<size_t>(i * K + kk)] = i % 2 == 0 ? 0 : 255;
  for (int64_t kk = 0; kk < K; ++kk)
    for (int64_t j = 0; j < N; ++j) B[static_cast<size_t>(kk * N + j)] = j % 2 == 0 ? -128 : 127;
  const std::vector<int32_t> zb = {127, -128, 127, -128};
  for (const int32_t za : {0, 255}) {
    std::vector<int32_t> fast(static_cast<size_t>(M * N)), ref(fast.size());
    k::qgemm_zp_u8s8(M, N, K, A.data(), K, za, B.data(), N, false, zb, fast.data(), N);
    k::qgemm_zp_reference_u8s8(M, N, K, A.data(), K, za, B.data(), N, false, zb, ref.data(), N);
    EXPECT_EQ(fast, ref);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        const int64_t a = (i % 2 == 0 ? 0 : 255) - za,
                      b = (j % 2 == 0 ? -128 : 127) - zb[static_cast<size_t>(j)];
        EXPECT_EQ(ref[static_cast<size_t>(i * N + j)], a * b * K);
      }
  }
}

TEST(Qgemm, EmptyDimensions) {
  std::vector<int32_t> C(6, 42);
  const uint8_t A[1] = {1};
  const int8_t B[1] = {1};
  k::qgemm_u8s8(2, 3, 0, A, 1, B, 3, false, C.data(), 3);  // an empty sum is 0
  EXPECT_EQ(C, std::vector<int32_t>(6, 0));
  C.assign(6, 42);
  k::qgemm_u8s8(0, 3, 4, nullptr, 4, B, 3, false, nullptr, 3);  // nothing to compute or read
  const int8_t A8[8] = {};
  k::qgemm_s8s8(2, 0, 4, A8, 4, nullptr, 1, false, C.data(), 1);
  EXPECT_EQ(C, std::vector<int32_t>(6, 42));
}

TEST(Qgemm, BadArgumentsThrow) {
  const uint8_t A[12] = {};
  const int8_t B[12] = {};
  int32_t C[12] = {};
  const int32_t zb1[] = {0}, zb2[] = {0, 0};
  EXPECT_THROW(k::qgemm_u8s8(-1, 2, 2, A, 2, B, 2, false, C, 2), tinyml::Error);
  EXPECT_THROW(k::qgemm_u8s8(2, 2, 3, A, 2, B, 2, false, C, 2), tinyml::Error);  // lda < K
  EXPECT_THROW(k::qgemm_u8s8(2, 2, 3, A, 3, B, 2, true, C, 2), tinyml::Error);   // ldb < K when trans_b
  EXPECT_THROW(k::qgemm_u8s8(2, 3, 2, A, 2, B, 2, false, C, 3), tinyml::Error);  // ldb < N
  EXPECT_THROW(k::qgemm_s8s8(2, 3, 2, reinterpret_cast<const int8_t*>(A), 2, B, 3, false, C, 2),
               tinyml::Error);  // ldc < N
  EXPECT_THROW(k::qgemm_u8s8(2, 2, 2, nullptr, 2, B, 2, false, C, 2), tinyml::Error);
  EXPECT_THROW(k::qgemm_zp_u8s8(2, 3, 2, A, 2, 0, B, 3, false, zb2, C, 3), tinyml::Error);  // 2 != 1, N
  EXPECT_THROW(k::qgemm_zp_u8s8(2, 2, 2, A, 2, 256, B, 2, false, zb1, C, 2), tinyml::Error);
  EXPECT_THROW(k::qgemm_zp_s8s8(2, 2, 2, reinterpret_cast<const int8_t*>(A), 2, 128, B, 2, false, zb1, C, 2),
               tinyml::Error);
  const int32_t zb_bad[] = {200};
  EXPECT_THROW(k::qgemm_zp_u8s8(2, 2, 2, A, 2, 0, B, 2, false, zb_bad, C, 2), tinyml::Error);
  try {
    k::qgemm_u8s8(2, 2, 3, A, 2, B, 2, false, C, 2);
    FAIL() << "no throw";
  } catch (const tinyml::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("qgemm_u8s8"), std::string::npos) << msg;
    EXPECT_NE(msg.find("lda=2"), std::string::npos) << msg;
  }
}

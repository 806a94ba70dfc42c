// Tests of the packed int8 weight: its product against the reference loops bit for bit, and the
// plain weight recovered byte for byte.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/bits.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/kernels/qgemm.hpp"
#include "tinyml/kernels/qgemm_packed.hpp"
#include "tinyml/kernels/sgemm.hpp"

namespace k = tinyml::kernels;

namespace {

// mt19937's output sequence is fixed by the standard, so a seed gives the same matrices everywhere.
using tinyml_test::random_bytes;

TEST(PackedWeightS8, ProductEqualsTheReferenceForEveryRowCount) {
  std::mt19937 gen(3);
  const std::vector<int8_t> probe(64 * 64, 1);
  if (!k::PackedWeightS8::pack(64, 64, probe.data()))
    GTEST_SKIP() << "no exact packed int8 product on this CPU";
  // N and K multiples of oneDNN's blocks of 64, and not (K = 510: VNNI reads 4 bytes at a time).
  for (const auto& [N, K] : {std::pair<int64_t, int64_t>{64, 64}, {500, 510}, {256, 784}}) {
    const std::vector<int8_t> B = random_bytes<int8_t>(static_cast<size_t>(N * K), gen);
    const auto packed = k::PackedWeightS8::pack(N, K, B.data());
    ASSERT_NE(packed, nullptr) << N << "x" << K;
    // M = 1 (batch 1), small odd counts, a full block and one past it; each M gets its own
    // primitive, and M = 3 comes back once the others were made (the cache).
    for (const int64_t M : {1, 3, 64, 65, 257, 3}) {
      SCOPED_TRACE(testing::Message() << "M=" << M << " N=" << N << " K=" << K);
      // Extremes mixed in: pairs of 255·127 products overflow int16, which only an exact kernel survives.
      std::vector<uint8_t> A = random_bytes<uint8_t>(static_cast<size_t>(M * K), gen);
      for (int64_t t = 0; t < K; ++t) A[static_cast<size_t>(t)] = 255;
      std::vector<int32_t> fast(static_cast<size_t>(M * N), -1), ref(fast.size());
      packed->multiply_u8(M, A.data(), fast.data());
      k::qgemm_reference_u8s8(M, N, K, A.data(), K, B.data(), K, /*trans_b=*/true, ref.data(), N);
      ASSERT_EQ(fast, ref);
    }
  }
}

TEST(PackedWeightS8, UnpackGivesBackTheWeightAndBytesCountThePadding) {
  std::mt19937 gen(4);
  const int64_t N = 500, K = 510;
  const std::vector<int8_t> B = random_bytes<int8_t>(static_cast<size_t>(N * K), gen);
  const auto packed = k::PackedWeightS8::pack(N, K, B.data());
  if (!packed) GTEST_SKIP() << "no exact packed int8 product on this CPU";
  EXPECT_EQ(packed->rows(), N);
  EXPECT_EQ(packed->cols(), K);
  std::vector<int8_t> back(B.size(), 0);
  packed->unpack(back.data());
  EXPECT_EQ(back, B);
  // Padded to whole blocks, and by at most the 1/8 pack() allows.
  EXPECT_GE(packed->bytes(), B.size());
  EXPECT_LE(packed->bytes(), B.size() + B.size() / 8);
  EXPECT_FALSE(k::qgemm_packed_info(256, N, K).empty());
}

// One packed weight used by four threads at once, each running oneDNN with two threads of its own
// (as a model served from several threads does): every product must still be exact. Each call
// brings its own scratchpad (user mode), so concurrent calls share no buffer whatever oneDNN's
// build options.
TEST(PackedWeightS8, ConcurrentProductsFromSeveralThreadsAreExact) {
  std::mt19937 gen(5);
  const int64_t N = 128, K = 256;
  const std::vector<int8_t> B = random_bytes<int8_t>(static_cast<size_t>(N * K), gen);
  const auto packed = k::PackedWeightS8::pack(N, K, B.data());
  if (!packed) GTEST_SKIP() << "no exact packed int8 product on this CPU";
  const int prev = k::num_threads();
  k::set_num_threads(2);
  constexpr int kThreads = 4;
  const std::vector<int64_t> rows = {16, 1, 5, 64};
  std::vector<std::vector<uint8_t>> A;
  std::vector<std::vector<int32_t>> ref;
  for (const int64_t M : rows) {
    A.push_back(random_bytes<uint8_t>(static_cast<size_t>(M * K), gen));
    ref.emplace_back(static_cast<size_t>(M * N));
    k::qgemm_reference_u8s8(M, N, K, A.back().data(), K, B.data(), K, /*trans_b=*/true, ref.back().data(), N);
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t)
    pool.emplace_back([&] {
      for (int it = 0; it < 50; ++it)
        for (size_t r = 0; r < rows.size(); ++r) {
          std::vector<int32_t> c(ref[r].size());
          packed->multiply_u8(rows[r], A[r].data(), c.data());
          if (c != ref[r]) ++mismatches;
        }
    });
  for (auto& th : pool) th.join();
  k::set_num_threads(prev);
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(PackedWeightS8, LayoutsThatWouldGrowTooMuchAreNotPacked) {
  // 10 outputs: oneDNN's blocks of 64 would make the weight several times larger.
  const std::vector<int8_t> B(10 * 128, 1);
  EXPECT_EQ(k::PackedWeightS8::pack(10, 128, B.data()), nullptr);
  EXPECT_EQ(k::PackedWeightS8::pack(0, 128, nullptr), nullptr);
  EXPECT_THROW(k::PackedWeightS8::pack(4, 4, nullptr), tinyml::Error);
}

}  // namespace

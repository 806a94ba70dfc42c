// The code of modules/10_integer_kernels/README.md, verbatim (tests/test_course.cpp checks it still matches).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tinyml/kernels/qgemm.hpp"

using namespace tinyml;

TEST(Snippets10, ReferenceGemm) {
  const std::vector<uint8_t> A{1, 2, 3, 4, 5, 6};   // 2×3, row-major
  const std::vector<int8_t> B{1, -1, 0, 2, -3, 1};  // 3×2
  std::vector<int32_t> C(4);
  kernels::qgemm_reference_u8s8(2, 2, 3, A.data(), 3, B.data(), 2, /*trans_b=*/false, C.data(), 2);
  // C = [[-8, 6], [-14, 12]]

  EXPECT_EQ(C, (std::vector<int32_t>{-8, 6, -14, 12}));
}

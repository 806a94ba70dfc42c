// The code of modules/09_qat_and_precision/README.md, verbatim (tests/test_course.cpp checks it still matches).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tinyml/core/tensor.hpp"
#include "tinyml/quant/fake_quantize.hpp"
#include "tinyml/quant/precision.hpp"

using namespace tinyml;

TEST(Snippets09, FakeQuantAndHalf) {
  Tensor x = Tensor({-1.0f, 0.26f, 2.0f});
  x.requires_grad_();
  quant::QParams qp{{4, quant::Scheme::Symmetric, quant::Granularity::PerTensor, 0, true}, {0.1f}, {0}};
  Tensor y = quant::fake_quantize_ste(x, qp);  // [-0.7, 0.3, 0.7]: the ends clamp to ±7 steps
  y.sum().backward();                          // x.grad = [0, 1, 0]
  uint16_t half = quant::float_to_half_bits(0.1f);  // 0x2E66

  EXPECT_NEAR(y.at({1}), 0.3f, 1e-6f);
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{0, 1, 0}));
  EXPECT_EQ(half, 0x2E66);
}

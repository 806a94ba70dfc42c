// The code of modules/04_losses/README.md, verbatim (tests/test_course.cpp checks it still matches).
#include <gtest/gtest.h>

#include "tinyml/core/tensor.hpp"
#include "tinyml/ops/ops.hpp"

using namespace tinyml;

TEST(Snippets04, CrossEntropy) {
  Tensor logits = Tensor({{2.0f, 1.0f, 0.1f}});
  Tensor target = Tensor({0.0f});                     // class indices, stored as floats
  Tensor p = softmax(logits, 1);                      // [[0.66, 0.24, 0.10]]
  float loss = cross_entropy(logits, target).item();  // −log 0.66 = 0.42

  EXPECT_NEAR(p.at({0, 0}), 0.659f, 1e-3f);  // PyTorch 1.13: 0.6590
  EXPECT_NEAR(loss, 0.417f, 1e-3f);          // PyTorch 1.13: 0.4170
}

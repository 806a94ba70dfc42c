// The code of modules/05_optimizers/README.md, verbatim (tests/test_course.cpp checks it still matches).
#include <gtest/gtest.h>

#include "tinyml/core/tensor.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/optim/optim.hpp"

using namespace tinyml;

TEST(Snippets05, MinimiseWithSGD) {
  Tensor w = Tensor::zeros({1});
  w.requires_grad_();
  optim::SGD opt({w}, {.lr = 0.1, .momentum = 0.9});
  for (int step = 0; step < 100; ++step) {
    opt.zero_grad();
    Tensor d = w - 3.0f;
    (d * d).sum().backward();  // minimum at w = 3
    opt.step();
  }

  EXPECT_NEAR(w.item(), 3.0f, 1e-2f);
}

// The code of modules/03_layers/README.md, verbatim (tests/test_course.cpp checks it still matches).
#include <gtest/gtest.h>

#include <memory>

#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/nn.hpp"

using namespace tinyml;

TEST(Snippets03, ModelAndHook) {
  auto model = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(2, 8), std::make_shared<nn::ReLU>(),
                                                std::make_shared<nn::Linear>(8, 1));
  Tensor y = (*model)(Tensor::ones({4, 2}));      // shape (4, 1)
  size_t tensors = model->parameters().size();    // 4: two weights, two biases

  EXPECT_EQ(y.shape(), (Shape{4, 1}));
  EXPECT_EQ(tensors, 4u);

  int calls = 0;
  nn::HookHandle handle = model->register_forward_hook(
      [&](nn::Module&, const Tensor&, const Tensor& out) { calls += out.size(0) > 0; });
  (*model)(Tensor::ones({1, 2}));
  handle.remove();  // calls == 1, and no more after this

  (*model)(Tensor::ones({1, 2}));
  EXPECT_EQ(calls, 1);
}

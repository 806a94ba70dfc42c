// The code of modules/02_autograd/README.md, verbatim (tests/test_course.cpp checks it still matches).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "tinyml/autograd/dot.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/ops/ops.hpp"

using namespace tinyml;

TEST(Snippets02, Backward) {
  Tensor x = Tensor::scalar(3.0f);
  x.requires_grad_();
  Tensor y = x * x + 2.0f * x;  // y = x² + 2x
  y.backward();                 // dy/dx = 2x + 2
  float slope = x.grad().item();

  EXPECT_FLOAT_EQ(slope, 8.0f);
}

TEST(Snippets02, SumTo) {
  Tensor g = Tensor::ones({2, 3});
  Tensor per_column = sum_to(g, {3});  // [2, 2, 2]: each b[j] was used by both rows
  Tensor per_row = sum_to(g, {2, 1});  // [[3], [3]]

  EXPECT_EQ(per_column.to_vector(), (std::vector<float>{2, 2, 2}));
  EXPECT_EQ(per_row.shape(), (Shape{2, 1}));
  EXPECT_EQ(per_row.to_vector(), (std::vector<float>{3, 3}));
}

TEST(Snippets02, SeeTheGraph) {
  Tensor a = Tensor::scalar(2.0f);
  Tensor b = Tensor::scalar(-3.0f);
  a.requires_grad_();
  b.requires_grad_();
  Tensor e = a * b + a;  // e = ab + a
  std::string before = autograd::to_dot(e, {{"a", a}, {"b", b}, {"e", e}});
  e.backward({}, /*retain_graph=*/true);  // keep the edges, to draw the graph again
  std::string after = autograd::to_dot(e, {{"a", a}, {"b", b}, {"e", e}});

  std::printf("%s\n%s", before.c_str(), after.c_str());
  EXPECT_THAT(before, ::testing::HasSubstr("AddBackward0"));
  EXPECT_THAT(after, ::testing::HasSubstr("grad [-2]"));  // de/da = b + 1
  EXPECT_THAT(after, ::testing::HasSubstr("grad [2]"));   // de/db = a
}

// The code of modules/01_tensor/README.md, verbatim (tests/test_course.cpp checks it still matches).
#include <gtest/gtest.h>

#include "tinyml/core/tensor.hpp"
#include "tinyml/ops/ops.hpp"

using namespace tinyml;

TEST(Snippets01, TryIt) {
  Tensor a = Tensor::arange(6).reshape({2, 3});  // [[0, 1, 2], [3, 4, 5]]
  Tensor t = a.t();                              // a view: no copy
  float five = t.at({2, 1});                     // storage[0 + 2*1 + 1*3]
  t.set({0, 1}, 30.0f);                          // writes a[1][0]

  EXPECT_FLOAT_EQ(five, 5.0f);
  EXPECT_FLOAT_EQ(a.at({1, 0}), 30.0f);
}

TEST(Snippets01, CopyAndContiguity) {
  Tensor grid = Tensor::zeros({2, 3});
  grid.copy_(Tensor({10, 20, 30}));  // the row is broadcast to both rows
  Tensor column = grid.slice(1, 2, 3);
  bool gaps = !column.is_contiguous();  // true: its two elements are 3 floats apart

  EXPECT_TRUE(gaps);
  EXPECT_EQ(column.to_vector(), (std::vector<float>{30, 30}));
}

// Module 01 step tests: strides, creation, contiguity, bounds-checked access, broadcasting copy.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "course_test.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/ops/ops.hpp"

using namespace tinyml;
using V = std::vector<float>;

// ---- contiguous_strides ----

TEST(Strides, RowMajor) {
  EXPECT_EQ(contiguous_strides({2, 3, 4}), (Shape{12, 4, 1}));
  EXPECT_EQ(contiguous_strides({5}), (Shape{1}));
  EXPECT_EQ(contiguous_strides({7, 1}), (Shape{1, 1}));
  EXPECT_EQ(contiguous_strides({}), (Shape{}));  // a scalar has no dims and no strides
}

TEST(Strides, ZeroExtentsCountAsOne) {
  // PyTorch: torch.empty(3, 0, 2).stride() == (2, 2, 1). Multiplying by 0 would give (0, 2, 1),
  // and a later reshape of such a tensor would compute offsets with a zero stride.
  EXPECT_EQ(contiguous_strides({3, 0, 2}), (Shape{2, 2, 1}));
  EXPECT_EQ(contiguous_strides({0, 4}), (Shape{4, 1}));
}

// ---- creation ----

TEST(Creation, FullZerosOnesScalar) {
  const Tensor f = Tensor::full({2, 3}, 2.5f);
  EXPECT_EQ(f.shape(), (Shape{2, 3}));
  EXPECT_EQ(f.strides(), (Shape{3, 1}));
  EXPECT_EQ(f.to_vector(), V(6, 2.5f));
  EXPECT_EQ(Tensor::zeros({4}).to_vector(), V(4, 0.0f));
  EXPECT_EQ(Tensor::ones({1, 2}).to_vector(), V(2, 1.0f));
  const Tensor s = Tensor::scalar(-3.0f);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_FLOAT_EQ(s.item(), -3.0f);
}

TEST(Creation, EmptyExtentsAreAllowed) {
  const Tensor e = Tensor::zeros({0, 3});
  EXPECT_EQ(e.numel(), 0);
  EXPECT_EQ(e.shape(), (Shape{0, 3}));
  EXPECT_TRUE(e.to_vector().empty());
}

TEST(Creation, FullRejectsNegativeDims) {
  EXPECT_TINYML_ERROR(Tensor::full({2, -1}, 0.0f), "Tensor::full", "[2, -1]");
  EXPECT_TINYML_ERROR(Tensor::zeros({-3}), "[-3]");
}

TEST(Creation, FromVectorNeedsExactlyTheRightCount) {
  const Tensor t = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {3, 2});
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(t.to_vector(), (V{1, 2, 3, 4, 5, 6}));
  EXPECT_TINYML_ERROR(Tensor::from_vector({1, 2, 3}, {2, 2}), "Tensor::from_vector", "3", "[2, 2]");
  EXPECT_TINYML_ERROR(Tensor::from_vector({1, 2, 3, 4, 5}, {2, 2}), "5", "[2, 2]");
  EXPECT_EQ(Tensor::from_vector({}, {0}).numel(), 0);
}

TEST(Creation, FromVectorCopies) {
  std::vector<float> v{1, 2};
  const Tensor t = Tensor::from_vector(v, {2});
  v[0] = 100;  // the tensor owns its storage
  EXPECT_EQ(t.to_vector(), (V{1, 2}));
}

// ---- contiguity ----

TEST(Contiguity, FreshTensorsAndViews) {
  const Tensor a = Tensor::arange(12).reshape({3, 4});
  EXPECT_TRUE(a.is_contiguous());
  EXPECT_FALSE(a.t().is_contiguous());
  EXPECT_FALSE(a.slice(1, 0, 4, 2).is_contiguous());  // every other column: gaps
  EXPECT_TRUE(a.slice(0, 1, 3).is_contiguous());      // whole rows 1..2: no gaps
  EXPECT_FALSE(a.slice(1, 1, 3).is_contiguous());     // a column block: rows are 4 apart, not 2
  EXPECT_TRUE(Tensor::scalar(1.0f).is_contiguous());
}

TEST(Contiguity, SizeOneDimsMayHaveAnyStride) {
  // Row 1 of a (3, 4) tensor, kept 2-D: shape (1, 4) with strides (4, 1). The stride of a size-1
  // dim never moves, so it does not matter (PyTorch agrees).
  const Tensor row = Tensor::arange(12).reshape({3, 4}).slice(0, 1, 2);
  EXPECT_EQ(row.shape(), (Shape{1, 4}));
  EXPECT_TRUE(row.is_contiguous());
  // A column (3, 1) with strides (4, 1): not contiguous (rows are 4 apart).
  EXPECT_FALSE(Tensor::arange(12).reshape({3, 4}).slice(1, 2, 3).is_contiguous());
  // The same column transposed to (1, 3) with strides (1, 4): also not.
  EXPECT_FALSE(Tensor::arange(12).reshape({3, 4}).slice(1, 2, 3).t().is_contiguous());
}

TEST(Contiguity, ContiguousCopiesOnlyWhenNeeded) {
  const Tensor a = Tensor::arange(6).reshape({2, 3});
  EXPECT_TRUE(a.contiguous().same_storage(a));
  const Tensor c = a.t().contiguous();
  EXPECT_FALSE(c.same_storage(a));
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.strides(), (Shape{2, 1}));
  EXPECT_EQ(c.to_vector(), (V{0, 3, 1, 4, 2, 5}));
}

// ---- element access ----

TEST(Access, AtFollowsStrides) {
  const Tensor a = Tensor::arange(6).reshape({2, 3});  // [[0 1 2] [3 4 5]]
  EXPECT_FLOAT_EQ(a.at({1, 2}), 5.0f);
  EXPECT_FLOAT_EQ(a.at({0, 1}), 1.0f);
  const Tensor t = a.t();  // (3, 2), strides (1, 3)
  EXPECT_FLOAT_EQ(t.at({2, 1}), 5.0f);
  EXPECT_FLOAT_EQ(t.at({1, 0}), 1.0f);
  const Tensor odd = Tensor::arange(10).slice(0, 1, 10, 3);  // 1, 4, 7 (offset 1, stride 3)
  EXPECT_FLOAT_EQ(odd.at({2}), 7.0f);
  EXPECT_FLOAT_EQ(Tensor::scalar(4.0f).at({}), 4.0f);
}

TEST(Access, NegativeIndicesCountFromTheEnd) {
  const Tensor a = Tensor::arange(6).reshape({2, 3});
  EXPECT_FLOAT_EQ(a.at({-1, -1}), 5.0f);
  EXPECT_FLOAT_EQ(a.at({-2, 0}), 0.0f);
  EXPECT_FLOAT_EQ(a.at({0, -3}), 0.0f);
}

TEST(Access, OutOfRangeIsAnErrorNotARead) {
  const Tensor a = Tensor::arange(6).reshape({2, 3});
  EXPECT_TINYML_ERROR(a.at({2, 0}), "Tensor::at", "index 2", "dim 0", "[2, 3]");
  EXPECT_TINYML_ERROR(a.at({0, 3}), "index 3", "dim 1");
  EXPECT_TINYML_ERROR(a.at({-3, 0}), "index -3");
  EXPECT_TINYML_ERROR(a.at({0}), "1 indices", "[2, 3]");
  EXPECT_TINYML_ERROR(a.at({0, 0, 0}), "3 indices");
}

TEST(Access, SetWritesThroughViews) {
  Tensor a = Tensor::zeros({2, 3});
  Tensor t = a.t();
  t.set({2, 1}, 9.0f);  // element (1, 2) of a
  EXPECT_FLOAT_EQ(a.at({1, 2}), 9.0f);
  EXPECT_TINYML_ERROR(t.set({3, 0}, 1.0f), "Tensor::set", "index 3");
}

// ---- copy_ ----

TEST(Copy, SameShape) {
  Tensor dst = Tensor::zeros({2, 2});
  dst.copy_(Tensor({{1, 2}, {3, 4}}));
  EXPECT_EQ(dst.to_vector(), (V{1, 2, 3, 4}));
}

TEST(Copy, BroadcastsTheSource) {
  Tensor dst = Tensor::zeros({2, 3});
  dst.copy_(Tensor({1, 2, 3}));  // a row, repeated down
  EXPECT_EQ(dst.to_vector(), (V{1, 2, 3, 1, 2, 3}));
  dst.copy_(Tensor({{7}, {8}}));  // a column, repeated across
  EXPECT_EQ(dst.to_vector(), (V{7, 7, 7, 8, 8, 8}));
  dst.copy_(Tensor::scalar(5.0f));
  EXPECT_EQ(dst.to_vector(), V(6, 5.0f));
}

TEST(Copy, IntoAndFromStridedViews) {
  Tensor a = Tensor::zeros({2, 3});
  a.t().copy_(Tensor({{1, 2}, {3, 4}, {5, 6}}));  // writes column by column
  EXPECT_EQ(a.to_vector(), (V{1, 3, 5, 2, 4, 6}));
  Tensor b = Tensor::zeros({3});
  b.copy_(Tensor::arange(6).slice(0, 0, 6, 2));  // 0, 2, 4 from a strided source
  EXPECT_EQ(b.to_vector(), (V{0, 2, 4}));
}

TEST(Copy, OverlappingSourceAndDestination) {
  // Shifting right by one inside one storage: a naive front-to-back loop would smear a[0].
  Tensor a = Tensor::arange(5);
  a.slice(0, 1, 5).copy_(a.slice(0, 0, 4));
  EXPECT_EQ(a.to_vector(), (V{0, 0, 1, 2, 3}));
}

TEST(Copy, RejectsShapesThatDoNotBroadcast) {
  Tensor dst = Tensor::zeros({2, 3});
  EXPECT_TINYML_ERROR(dst.copy_(Tensor::zeros({4})), "Tensor::copy_", "[4]", "[2, 3]");
  EXPECT_TINYML_ERROR(dst.copy_(Tensor::zeros({2, 2, 3})), "[2, 2, 3]");  // more dims than the target
  EXPECT_EQ(dst.to_vector(), V(6, 0.0f));                                 // a rejected copy changes nothing
}

// ---- views and shapes, built on the above ----

TEST(Views, ReshapeTransposeAndSliceShareStorage) {
  Tensor a = Tensor::arange(6);
  Tensor m = a.reshape({2, 3});
  EXPECT_TRUE(m.same_storage(a));
  m.set({1, 0}, 30.0f);
  EXPECT_FLOAT_EQ(a.at({3}), 30.0f);
  Tensor col = m.slice(1, 1, 2);
  EXPECT_EQ(col.shape(), (Shape{2, 1}));
  EXPECT_EQ(col.to_vector(), (V{1, 4}));
  EXPECT_EQ(m.t().to_vector(), (V{0, 30, 1, 4, 2, 5}));
}

TEST(Views, ReshapeOfANonContiguousViewCopies) {
  const Tensor t = Tensor::arange(6).reshape({2, 3}).t();  // (3, 2)
  const Tensor r = t.reshape({6});
  EXPECT_EQ(r.to_vector(), (V{0, 3, 1, 4, 2, 5}));
  EXPECT_FALSE(r.same_storage(t));
  EXPECT_TINYML_ERROR(t.view({6}), "view", "not contiguous");
}

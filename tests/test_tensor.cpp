// Tensor: creation, views sharing storage, strides, element access, in-place ops, printing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "tinyml/core/asan.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/ops/ops.hpp"

using namespace tinyml;
using ::testing::HasSubstr;

TEST(Tensor, CreationShapesAndValues) {
  EXPECT_EQ(Tensor::zeros({2, 3}).shape(), (Shape{2, 3}));
  EXPECT_EQ(Tensor::ones({4}).to_vector(), std::vector<float>(4, 1.0f));
  EXPECT_EQ(Tensor::full({2}, 7.5f).to_vector(), (std::vector<float>{7.5f, 7.5f}));
  EXPECT_EQ(Tensor::arange(5).to_vector(), (std::vector<float>{0, 1, 2, 3, 4}));
  EXPECT_EQ(Tensor::arange(1, 2, 0.25f).to_vector(), (std::vector<float>{1, 1.25f, 1.5f, 1.75f}));
  Tensor m({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(m.shape(), (Shape{2, 3}));
  EXPECT_FLOAT_EQ(m.at({1, 2}), 6.0f);
  EXPECT_FLOAT_EQ(m.at({-1, -3}), 4.0f);
  Tensor s = Tensor::scalar(3.0f);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_FLOAT_EQ(s.item(), 3.0f);
  EXPECT_EQ(Tensor::zeros({0, 3}).numel(), 0);
}

// Blocks over 512 bytes are 64-byte aligned for SIMD and BLAS; smaller ones come from malloc or,
// up to 32 floats, live inside the Storage: 16-byte aligned (what any SSE/AVX unaligned load needs
// at most for speed at that size).
TEST(Tensor, StorageIsAligned) {
  for (int64_t n : {1, 3, 17, 33, 128, 129, 1000}) {
    Tensor t = Tensor::empty({n});
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % (n > 128 ? 64 : 16), 0u) << n;
  }
}

TEST(Tensor, SmallAndLargeStoragesHoldTheirValuesIndependently) {
  // 32 floats and fewer live inside the Storage, 33 and more in a block of their own; a view keeps
  // the storage alive either way.
  for (int64_t n : {0, 1, 32, 33}) {
    Tensor view;
    {
      Tensor t = Tensor::arange(static_cast<float>(n));
      view = t.reshape({n, 1});
      Tensor other = Tensor::full({n}, -1.0f);
      EXPECT_FALSE(other.same_storage(t));
    }
    std::vector<float> want(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) want[static_cast<size_t>(i)] = static_cast<float>(i);
    EXPECT_EQ(view.to_vector(), want) << n;
  }
}

#if defined(TINYML_SANITIZER_RUNTIME) || TINYML_ASAN
#include <sanitizer/asan_interface.h>  // __asan_address_is_poisoned

// The unused floats of a small tensor's inline storage are poisoned: an instrumented read past its
// end is a report, as past the end of an allocated block (the sanitizer pass of scripts/test.sh
// runs this). The test programs themselves are not instrumented (cmake/TinymlWarnings.cmake), so
// the test asks the runtime which bytes are poisoned rather than reading them.
TEST(Tensor, TheUnusedFloatsOfASmallTensorArePoisoned) {
  const Tensor t = Tensor::zeros({3});
  const float* p = t.data();
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(__asan_address_is_poisoned(p + i)) << i;
  EXPECT_TRUE(__asan_address_is_poisoned(p + 3));
  EXPECT_TRUE(__asan_address_is_poisoned(p + 31));  // the last of the 32 inline floats
}
#endif

TEST(Tensor, RandomIsSeeded) {
  Generator g1(42), g2(42), g3(43);
  EXPECT_TRUE(equal(Tensor::randn({10}, g1), Tensor::randn({10}, g2)));
  EXPECT_FALSE(equal(Tensor::rand({10}, g1), Tensor::rand({10}, g3)));
  // 10 000 uniforms: mean 0.5 with standard error 0.29/100 ≈ 0.003; 5 sigma = 0.015.
  Generator g(7);
  EXPECT_NEAR(Tensor::rand({10000}, g).mean().item(), 0.5f, 0.015f);
  // N(0,1): mean within 5·0.01, variance within 5·sqrt(2/n) ≈ 0.07.
  Tensor n = Tensor::randn({10000}, g);
  EXPECT_NEAR(n.mean().item(), 0.0f, 0.05f);
  EXPECT_NEAR((n * n).mean().item(), 1.0f, 0.07f);
}

TEST(Tensor, ViewsShareStorage) {
  Tensor a = Tensor::arange(6).reshape({2, 3});
  Tensor t = a.t();
  EXPECT_TRUE(t.same_storage(a));
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(t.strides(), (Shape{1, 3}));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.to_vector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  Tensor row = a[1];
  EXPECT_EQ(row.to_vector(), (std::vector<float>{3, 4, 5}));
  row.fill_(9.0f);  // writes through the view
  EXPECT_FLOAT_EQ(a.at({1, 0}), 9.0f);
  Tensor sl = a.slice(1, 0, 3, 2);
  EXPECT_EQ(sl.shape(), (Shape{2, 2}));
  EXPECT_EQ(sl.to_vector(), (std::vector<float>{0, 2, 9, 9}));
  EXPECT_EQ(a.narrow(1, 1, 2).to_vector(), (std::vector<float>{1, 2, 9, 9}));
  Tensor c = t.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_FALSE(c.same_storage(a));
  EXPECT_EQ(a.reshape({3, -1}).shape(), (Shape{3, 2}));
  EXPECT_EQ(t.reshape({6}).to_vector(), (std::vector<float>{0, 9, 1, 9, 2, 9}));
  EXPECT_EQ(a.unsqueeze(0).shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(a.unsqueeze(-1).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(Tensor::zeros({2, 1, 3}).squeeze(1).shape(), (Shape{2, 3}));
  EXPECT_EQ(Tensor::zeros({2, 3, 4}).permute({2, 0, 1}).shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(Tensor({1, 2}).reshape({2, 1}).expand({2, 3}).to_vector(),
            (std::vector<float>{1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(Tensor::zeros({2, 3, 4}).flatten(1).shape(), (Shape{2, 12}));
}

TEST(Tensor, BadInputThrowsWithShapes) {
  Tensor a = Tensor::zeros({2, 3});
  EXPECT_THAT([&] { (void)a.reshape({4, 2}); }, ::testing::ThrowsMessage<Error>(HasSubstr("[4, 2]")));
  EXPECT_THAT([&] { (void)a.t().view({6}); }, ::testing::ThrowsMessage<Error>(HasSubstr("not contiguous")));
  EXPECT_THROW((void)a.at({2, 0}), Error);
  EXPECT_THROW((void)a.size(2), Error);
  EXPECT_THROW((void)a.transpose(0, 5), Error);
  EXPECT_THROW((void)a.item(), Error);
  EXPECT_THROW((void)Tensor::from_vector({1, 2, 3}, {2, 2}), Error);
  EXPECT_THROW((void)Tensor::zeros({-1}), Error);
  EXPECT_THROW((void)Tensor({{1, 2}, {3}}), Error);
  EXPECT_THROW((void)a.narrow(1, 2, 2), Error);
  EXPECT_THROW((void)a.expand({3, 3}), Error);
  EXPECT_THROW((void)Tensor().shape(), Error);
  EXPECT_THAT([&] { (void)(a + Tensor::zeros({4})); },
              ::testing::ThrowsMessage<Error>(HasSubstr("[2, 3] and [4]")));
}

TEST(Tensor, InPlaceOps) {
  Tensor a = Tensor::zeros({2, 3});
  a.copy_(Tensor({1, 2, 3}));  // broadcast over rows
  EXPECT_EQ(a.to_vector(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  a.add_(Tensor::ones({2, 3}), 2.0f);
  EXPECT_EQ(a.to_vector(), (std::vector<float>{3, 4, 5, 3, 4, 5}));
  a.mul_(0.5f);
  a.clamp_(2.0f, 2.25f);
  EXPECT_EQ(a.to_vector(), (std::vector<float>{2, 2, 2.25f, 2, 2, 2.25f}));
  // Copying a view onto an overlapping view of the same storage reads the old values.
  Tensor v = Tensor::arange(4);
  v.slice(0, 1, 4).copy_(v.slice(0, 0, 3));
  EXPECT_EQ(v.to_vector(), (std::vector<float>{0, 0, 1, 2}));
}

// Expected strings from PyTorch 1.13: print(torch.tensor(...)).
TEST(Tensor, PrintsLikePyTorch) {
  EXPECT_EQ(to_string(Tensor({{1, 2}, {3, 4}})), "tensor([[1., 2.],\n        [3., 4.]])");
  EXPECT_EQ(to_string(Tensor({{1.5f, -2.25f}, {3, 4}})),
            "tensor([[ 1.5000, -2.2500],\n        [ 3.0000,  4.0000]])");
  EXPECT_EQ(to_string(Tensor({1e-5f, 1.0f, 1000.0f})), "tensor([1.0000e-05, 1.0000e+00, 1.0000e+03])");
  Tensor r = Tensor::arange(6).reshape({2, 3}).clone().detach().requires_grad_();
  EXPECT_EQ(fmt::format("{}", r), "tensor([[0., 1., 2.],\n        [3., 4., 5.]], requires_grad=True)");
  EXPECT_THAT(to_string(r * 2.0f), HasSubstr("grad_fn=<MulBackward1>"));
  std::ostringstream os;
  os << Tensor::scalar(2.5f);
  EXPECT_EQ(os.str(), "tensor(2.5000)");
  EXPECT_THAT(to_string(Tensor::zeros({2000})), HasSubstr("..."));
}

TEST(Tensor, AllcloseAndEqual) {
  EXPECT_TRUE(allclose(Tensor({1.0f, 2.0f}), Tensor({1.0f + 1e-6f, 2.0f})));
  EXPECT_FALSE(allclose(Tensor({1.0f, 2.0f}), Tensor({1.1f, 2.0f})));
  EXPECT_FALSE(allclose(Tensor({1.0f}), Tensor({1.0f, 1.0f})));
  EXPECT_TRUE(equal(Tensor({1, 2}), Tensor({1, 2})));
}

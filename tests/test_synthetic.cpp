// Tests for the synthetic datasets: exact XOR values, spiral geometry, blob shapes and balance.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/data/synthetic.hpp"

using ::testing::HasSubstr;
using tinyml::Error;
using tinyml::Generator;
using tinyml::Shape;
using tinyml::data::blobs;
using tinyml::data::spirals;
using tinyml::data::TensorDataset;
using tinyml::data::xor_dataset;

namespace {

std::vector<int> class_counts(const TensorDataset& ds, int classes) {
  std::vector<int> counts(static_cast<size_t>(classes), 0);
  for (float y : ds.targets().to_vector()) {
    EXPECT_EQ(y, std::floor(y));  // class indices are whole numbers
    EXPECT_GE(y, 0.0f);
    EXPECT_LT(y, static_cast<float>(classes));
    if (y >= 0 && y < static_cast<float>(classes)) ++counts[static_cast<size_t>(y)];
  }
  return counts;
}

}  // namespace

TEST(Synthetic, XorValues) {
  const TensorDataset ds = xor_dataset();
  EXPECT_EQ(ds.size(), 4u);
  EXPECT_EQ(ds.data().shape(), (Shape{4, 2}));
  EXPECT_EQ(ds.targets().shape(), (Shape{4, 1}));
  EXPECT_EQ(ds.data().to_vector(), (std::vector<float>{0, 0, 0, 1, 1, 0, 1, 1}));
  EXPECT_EQ(ds.targets().to_vector(), (std::vector<float>{0, 1, 1, 0}));
}

TEST(Synthetic, SpiralsShapeAndBalance) {
  Generator gen(1);
  const TensorDataset ds = spirals(50, 3, 0.2f, gen);
  EXPECT_EQ(ds.data().shape(), (Shape{150, 2}));
  EXPECT_EQ(ds.targets().shape(), (Shape{150}));
  EXPECT_EQ(class_counts(ds, 3), (std::vector<int>{50, 50, 50}));
}

TEST(Synthetic, SpiralRadiusIgnoresAngleNoise) {
  // Noise jitters the angle only, so point i of every arm lies at radius i / (n - 1); 1e-6 covers
  // float rounding of sin/cos at radius <= 1.
  Generator gen(2);
  const int64_t n = 20;
  const TensorDataset ds = spirals(n, 4, 0.3f, gen);
  for (int64_t k = 0; k < 4 * n; ++k) {
    const float x = ds.data().at({k, 0});
    const float y = ds.data().at({k, 1});
    const double r = static_cast<double>(k % n) / static_cast<double>(n - 1);
    EXPECT_NEAR(std::hypot(x, y), r, 1e-6) << "point " << k;
  }
}

TEST(Synthetic, SpiralPointsWithoutNoise) {
  // Hand-computed: arm c of 2 starts at angle π·c and turns 4 rad; (x, y) = r·(sin t, cos t).
  // sin 4 = -0.7568025, cos 4 = -0.6536436, sin 2 = 0.9092974, cos 2 = -0.4161468.
  Generator gen(3);
  const TensorDataset ds = spirals(5, 2, 0.0f, gen);
  const auto& d = ds.data();
  EXPECT_NEAR(d.at({0, 0}), 0.0f, 1e-7);  // r = 0
  EXPECT_NEAR(d.at({0, 1}), 0.0f, 1e-7);
  EXPECT_NEAR(d.at({2, 0}), 0.5f * 0.9092974f, 1e-6);  // class 0, r = 0.5, t = 2
  EXPECT_NEAR(d.at({2, 1}), 0.5f * -0.4161468f, 1e-6);
  EXPECT_NEAR(d.at({4, 0}), -0.7568025f, 1e-6);  // class 0, r = 1, t = 4
  EXPECT_NEAR(d.at({4, 1}), -0.6536436f, 1e-6);
  EXPECT_NEAR(d.at({9, 0}), 0.7568025f, 1e-6);  // class 1, r = 1, t = π + 4
  EXPECT_NEAR(d.at({9, 1}), 0.6536436f, 1e-6);
  EXPECT_EQ(ds.targets().at({4}), 0.0f);
  EXPECT_EQ(ds.targets().at({5}), 1.0f);
}

TEST(Synthetic, SeededAndReproducible) {
  Generator a(5), b(5), c(6);
  const TensorDataset sa = spirals(10, 2, 0.1f, a);
  const TensorDataset sb = spirals(10, 2, 0.1f, b);
  const TensorDataset sc = spirals(10, 2, 0.1f, c);
  EXPECT_TRUE(tinyml::equal(sa.data(), sb.data()));
  EXPECT_FALSE(tinyml::equal(sa.data(), sc.data()));
  Generator d(7), e(7);
  EXPECT_TRUE(tinyml::equal(blobs(30, 3, 2, 1.0f, d).data(), blobs(30, 3, 2, 1.0f, e).data()));
}

TEST(Synthetic, BlobsShapeBalanceAndSpread) {
  Generator gen(8);
  const int64_t n = 100, k = 4, dim = 3;
  const float stddev = 0.5f;
  const TensorDataset ds = blobs(n, k, dim, stddev, gen);
  EXPECT_EQ(ds.data().shape(), (Shape{n, dim}));
  EXPECT_EQ(ds.targets().shape(), (Shape{n}));
  EXPECT_EQ(class_counts(ds, 4), (std::vector<int>{25, 25, 25, 25}));

  // Per class and coordinate: the mean is a centre in [-10, 10] (the mean of 25 draws has standard
  // deviation 0.5 / 5 = 0.1, so 10.5 is 5σ out), and the pooled standard deviation over
  // 4 × 3 × 24 = 288 degrees of freedom estimates 0.5 within ~0.5 / sqrt(2 · 288) ≈ 0.02; 0.1 is 5σ.
  double ss = 0.0;
  int dof = 0;
  for (int64_t c = 0; c < k; ++c) {
    for (int64_t j = 0; j < dim; ++j) {
      std::vector<double> v;
      for (int64_t i = 0; i < n; ++i) {
        if (ds.targets().at({i}) == static_cast<float>(c)) v.push_back(ds.data().at({i, j}));
      }
      double mean = 0.0;
      for (double x : v) mean += x;
      mean /= static_cast<double>(v.size());
      EXPECT_LE(std::abs(mean), 10.5);
      for (double x : v) ss += (x - mean) * (x - mean);
      dof += static_cast<int>(v.size()) - 1;
    }
  }
  EXPECT_NEAR(std::sqrt(ss / dof), stddev, 0.1);
}

TEST(Synthetic, BlobsClassSizesDifferByAtMostOne) {
  Generator gen(9);
  EXPECT_EQ(class_counts(blobs(7, 3, 2, 1.0f, gen), 3), (std::vector<int>{3, 2, 2}));
}

TEST(Synthetic, RejectsBadArguments) {
  Generator gen(10);
  EXPECT_THROW(spirals(0, 3, 0.1f, gen), Error);
  EXPECT_THROW(spirals(10, 0, 0.1f, gen), Error);
  try {
    spirals(10, 2, -1.0f, gen);
    ADD_FAILURE() << "negative noise accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("noise"));
  }
  EXPECT_THROW(spirals(10, 2, std::nanf(""), gen), Error);
  try {
    blobs(2, 3, 2, 1.0f, gen);
    ADD_FAILURE() << "fewer points than centres accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("n = 2"));
  }
  EXPECT_THROW(blobs(10, 2, 0, 1.0f, gen), Error);
  EXPECT_THROW(blobs(10, 2, 2, -0.5f, gen), Error);
}

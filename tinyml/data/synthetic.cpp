#include "tinyml/data/synthetic.hpp"

#include <cmath>
#include <numbers>
#include <vector>

#include "tinyml/core/error.hpp"

namespace tinyml::data {

namespace {
// Keeps sizes far from int64 overflow; synthetic sets are meant to be small.
constexpr int64_t kMaxPoints = int64_t{1} << 31;
}  // namespace

TensorDataset xor_dataset() {
  return TensorDataset(Tensor({{0, 0}, {0, 1}, {1, 0}, {1, 1}}), Tensor({{0}, {1}, {1}, {0}}));
}

TensorDataset spirals(int64_t n_per_class, int64_t n_classes, float noise, Generator& gen) {
  TINYML_CHECK(n_per_class > 0 && n_classes > 0,
               "spirals: n_per_class and n_classes must be positive, got {} and {}", n_per_class, n_classes);
  TINYML_CHECK(std::isfinite(noise) && noise >= 0.0f,
               "spirals: noise must be finite and non-negative, got {}", noise);
  TINYML_CHECK(n_per_class <= kMaxPoints / n_classes, "spirals: {} × {} points exceed the limit of {}",
               n_per_class, n_classes, kMaxPoints);
  // Arms turn 4 rad: enough to interleave them (not linearly separable), little enough that a small
  // MLP separates them.
  constexpr double kSweep = 4.0;
  const int64_t n = n_per_class * n_classes;
  std::vector<float> x(static_cast<size_t>(2 * n));
  std::vector<float> y(static_cast<size_t>(n));
  size_t k = 0;
  for (int64_t c = 0; c < n_classes; ++c) {
    const double start = 2.0 * std::numbers::pi * static_cast<double>(c) / static_cast<double>(n_classes);
    for (int64_t i = 0; i < n_per_class; ++i, ++k) {
      const double r = n_per_class > 1 ? static_cast<double>(i) / static_cast<double>(n_per_class - 1) : 0.0;
      const double t = start + kSweep * r + static_cast<double>(noise) * gen.normal();
      x[2 * k] = static_cast<float>(r * std::sin(t));
      x[2 * k + 1] = static_cast<float>(r * std::cos(t));
      y[k] = static_cast<float>(c);
    }
  }
  return TensorDataset(Tensor::from_vector(x, {n, 2}), Tensor::from_vector(y, {n}));
}

TensorDataset blobs(int64_t n, int64_t centers, int64_t dim, float stddev, Generator& gen) {
  TINYML_CHECK(centers > 0 && dim > 0, "blobs: centers and dim must be positive, got {} and {}", centers,
               dim);
  TINYML_CHECK(n >= centers, "blobs: n = {} points cannot give each of the {} centres a point", n, centers);
  TINYML_CHECK(std::isfinite(stddev) && stddev >= 0.0f,
               "blobs: stddev must be finite and non-negative, got {}", stddev);
  TINYML_CHECK(n <= kMaxPoints / dim && centers <= kMaxPoints / dim,
               "blobs: n = {}, centers = {} and dim = {} exceed the limit of {} values", n, centers, dim,
               kMaxPoints);
  std::vector<float> mu(static_cast<size_t>(centers * dim));
  for (float& m : mu) m = gen.uniform(-10.0f, 10.0f);
  std::vector<float> x(static_cast<size_t>(n * dim));
  std::vector<float> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i % centers;
    for (int64_t d = 0; d < dim; ++d) {
      x[static_cast<size_t>(i * dim + d)] = mu[static_cast<size_t>(c * dim + d)] + stddev * gen.normal();
    }
    y[static_cast<size_t>(i)] = static_cast<float>(c);
  }
  return TensorDataset(Tensor::from_vector(x, {n, dim}), Tensor::from_vector(y, {n}));
}

}  // namespace tinyml::data

#include "tinyml/quant/error_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "tinyml/core/error.hpp"

namespace tinyml::quant {

namespace {

// Both tensors' values after the shape check every metric shares.
struct Pair {
  std::vector<float> r, a;
};
Pair metric_inputs(const Tensor& reference, const Tensor& approx, const char* fn) {
  TINYML_CHECK(reference.defined() && approx.defined(), "{}: got an undefined tensor", fn);
  TINYML_CHECK(reference.shape() == approx.shape(), "{}: shapes differ: reference {} vs approximation {}", fn,
               shape_str(reference.shape()), shape_str(approx.shape()));
  TINYML_CHECK(reference.numel() > 0, "{}: got empty tensors of shape {}", fn, shape_str(reference.shape()));
  return {reference.to_vector(), approx.to_vector()};
}

}  // namespace

// Accumulated in double.

double mse(const Tensor& reference, const Tensor& approx) {
  const auto [r, a] = metric_inputs(reference, approx, "mse");
  double s = 0.0;
  for (size_t i = 0; i < r.size(); ++i) {
    const double d = static_cast<double>(a[i]) - r[i];
    s += d * d;
  }
  return s / static_cast<double>(r.size());
}

double max_abs_error(const Tensor& reference, const Tensor& approx) {
  const auto [r, a] = metric_inputs(reference, approx, "max_abs_error");
  double m = 0.0;
  for (size_t i = 0; i < r.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - r[i]));
  return m;
}

double mean_abs_error(const Tensor& reference, const Tensor& approx) {
  const auto [r, a] = metric_inputs(reference, approx, "mean_abs_error");
  double s = 0.0;
  for (size_t i = 0; i < r.size(); ++i) s += std::fabs(static_cast<double>(a[i]) - r[i]);
  return s / static_cast<double>(r.size());
}

double mean_relative_error(const Tensor& reference, const Tensor& approx) {
  const auto [r, a] = metric_inputs(reference, approx, "mean_relative_error");
  double err = 0.0, mag = 0.0;
  for (size_t i = 0; i < r.size(); ++i) {
    err += std::fabs(static_cast<double>(a[i]) - r[i]);
    mag += std::fabs(static_cast<double>(r[i]));
  }
  if (err == 0.0) return 0.0;
  return mag == 0.0 ? std::numeric_limits<double>::infinity() : err / mag;
}

double snr_db(const Tensor& w, const Tensor& w_hat) {
  TINYML_CHECK(w.defined() && w_hat.defined() && w.shape() == w_hat.shape(),
               "snr_db: needs two tensors of one shape, got {} and {}",
               w.defined() ? shape_str(w.shape()) : "undefined",
               w_hat.defined() ? shape_str(w_hat.shape()) : "undefined");
  const std::vector<float> a = w.to_vector(), b = w_hat.to_vector();
  double signal = 0.0, noise = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = a[i], d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    signal += x * x;
    noise += d * d;
  }
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  if (signal == 0.0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

}  // namespace tinyml::quant

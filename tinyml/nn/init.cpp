#include "tinyml/nn/init.hpp"

#include <cmath>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"

namespace tinyml::nn::init {

namespace {

// Writes next() into every element in row-major order. Contiguous tensors are written directly;
// strided views are filled through a contiguous scratch tensor so the draw order stays row-major.
template <class Next>
Tensor fill_with(Tensor tensor, const char* fn, Next next) {
  TINYML_CHECK(tensor.defined(), "{}: the tensor is undefined", fn);
  NoGradGuard no_grad;
  const int64_t n = tensor.numel();
  if (tensor.is_contiguous()) {
    float* p = tensor.data();
    for (int64_t i = 0; i < n; ++i) p[i] = next();
  } else {
    Tensor scratch = Tensor::empty(tensor.shape());
    float* p = scratch.data();
    for (int64_t i = 0; i < n; ++i) p[i] = next();
    tensor.copy_(scratch);
  }
  return tensor;
}

int64_t fan_for_mode(const Tensor& tensor, const std::string& mode, const char* fn) {
  TINYML_CHECK(mode == "fan_in" || mode == "fan_out",
               "{}: mode must be \"fan_in\" or \"fan_out\", got \"{}\"", fn, mode);
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  return mode == "fan_in" ? fan_in : fan_out;
}

}  // namespace

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor) {
  TINYML_CHECK(tensor.defined(), "calculate_fan_in_and_fan_out: the tensor is undefined");
  TINYML_CHECK(tensor.dim() >= 2,
               "calculate_fan_in_and_fan_out: fan in and fan out need a tensor of at least 2 dimensions, "
               "got shape {}",
               shape_str(tensor.shape()));
  int64_t receptive = 1;
  for (int64_t d = 2; d < tensor.dim(); ++d) receptive *= tensor.size(d);
  return {tensor.size(1) * receptive, tensor.size(0) * receptive};
}

double calculate_gain(const std::string& nonlinearity, std::optional<double> param) {
  if (nonlinearity == "linear" || nonlinearity == "sigmoid" || nonlinearity == "conv1d" ||
      nonlinearity == "conv2d" || nonlinearity == "conv3d" || nonlinearity == "conv_transpose1d" ||
      nonlinearity == "conv_transpose2d" || nonlinearity == "conv_transpose3d")
    return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3.0;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") {
    const double slope = param.value_or(0.01);
    TINYML_CHECK(std::isfinite(slope), "calculate_gain: negative slope {} is not a finite number", slope);
    return std::sqrt(2.0 / (1.0 + slope * slope));
  }
  if (nonlinearity == "selu") return 3.0 / 4.0;
  throw Error(
      fmt::format("calculate_gain: unsupported nonlinearity \"{}\" (expected linear, conv1d/2d/3d, "
                  "conv_transpose1d/2d/3d, sigmoid, tanh, relu, leaky_relu or selu)",
                  nonlinearity));
}

Tensor uniform_(Tensor tensor, double a, double b, Generator& gen) {
  TINYML_CHECK(std::isfinite(a) && std::isfinite(b) && a <= b,
               "uniform_: expected finite bounds a <= b, got a = {}, b = {}", a, b);
  const auto lo = static_cast<float>(a), hi = static_cast<float>(b);
  return fill_with(std::move(tensor), "uniform_", [&] { return gen.uniform(lo, hi); });
}

Tensor normal_(Tensor tensor, double mean, double stddev, Generator& gen) {
  TINYML_CHECK(std::isfinite(mean) && std::isfinite(stddev) && stddev >= 0.0,
               "normal_: expected a finite mean and a finite std >= 0, got mean = {}, std = {}", mean,
               stddev);
  const auto m = static_cast<float>(mean), s = static_cast<float>(stddev);
  return fill_with(std::move(tensor), "normal_", [&] { return gen.normal(m, s); });
}

Tensor constant_(Tensor tensor, double value) {
  const auto v = static_cast<float>(value);
  return fill_with(std::move(tensor), "constant_", [v] { return v; });
}

Tensor zeros_(Tensor tensor) { return constant_(std::move(tensor), 0.0); }
Tensor ones_(Tensor tensor) { return constant_(std::move(tensor), 1.0); }

Tensor kaiming_uniform_(Tensor tensor, double a, const std::string& mode, const std::string& nonlinearity,
                        Generator& gen) {
  TINYML_CHECK(tensor.defined(), "kaiming_uniform_: the tensor is undefined");
  if (tensor.numel() == 0) return tensor;  // nothing to fill, and the fan would be 0
  const double gain = calculate_gain(nonlinearity, a);
  const double stddev = gain / std::sqrt(static_cast<double>(fan_for_mode(tensor, mode, "kaiming_uniform_")));
  const double bound = std::sqrt(3.0) * stddev;
  return uniform_(std::move(tensor), -bound, bound, gen);
}

Tensor kaiming_normal_(Tensor tensor, double a, const std::string& mode, const std::string& nonlinearity,
                       Generator& gen) {
  TINYML_CHECK(tensor.defined(), "kaiming_normal_: the tensor is undefined");
  if (tensor.numel() == 0) return tensor;
  const double gain = calculate_gain(nonlinearity, a);
  const double stddev = gain / std::sqrt(static_cast<double>(fan_for_mode(tensor, mode, "kaiming_normal_")));
  return normal_(std::move(tensor), 0.0, stddev, gen);
}

Tensor xavier_uniform_(Tensor tensor, double gain, Generator& gen) {
  TINYML_CHECK(tensor.defined(), "xavier_uniform_: the tensor is undefined");
  TINYML_CHECK(std::isfinite(gain) && gain >= 0.0, "xavier_uniform_: expected a finite gain >= 0, got {}",
               gain);
  if (tensor.numel() == 0) return tensor;
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  const double stddev = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  const double bound = std::sqrt(3.0) * stddev;
  return uniform_(std::move(tensor), -bound, bound, gen);
}

Tensor xavier_normal_(Tensor tensor, double gain, Generator& gen) {
  TINYML_CHECK(tensor.defined(), "xavier_normal_: the tensor is undefined");
  TINYML_CHECK(std::isfinite(gain) && gain >= 0.0, "xavier_normal_: expected a finite gain >= 0, got {}",
               gain);
  if (tensor.numel() == 0) return tensor;
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  const double stddev = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  return normal_(std::move(tensor), 0.0, stddev, gen);
}

}  // namespace tinyml::nn::init

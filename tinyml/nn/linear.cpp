#include "tinyml/nn/linear.hpp"

#include <cmath>

#include "tinyml/nn/init.hpp"
#include "tinyml/ops/ops.hpp"

namespace tinyml::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias, Generator& gen)
    : in_features_(in_features), out_features_(out_features) {
  // BEGIN SOLUTION 03: Linear::Linear: check sizes, register weight (out, in) and bias, init as PyTorch
  TINYML_CHECK(in_features > 0 && out_features > 0,
               "Linear: expected in_features > 0 and out_features > 0, got in_features={}, out_features={}",
               in_features, out_features);
  weight = register_parameter("weight", Tensor::empty({out_features, in_features}));
  // PyTorch's reset_parameters: a = √5 makes the kaiming bound exactly 1/√fan_in.
  init::kaiming_uniform_(weight, std::sqrt(5.0), "fan_in", "leaky_relu", gen);
  if (bias) {
    this->bias = register_parameter("bias", Tensor::empty({out_features}));
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    init::uniform_(this->bias, -bound, bound, gen);
  }
  // END SOLUTION
}

Tensor Linear::forward(const Tensor& input) {
  // BEGIN SOLUTION 03: Linear::forward: y = x W^T + b for input (..., in_features)
  TINYML_CHECK(input.defined(), "Linear::forward: the input is undefined");
  TINYML_CHECK(
      input.dim() >= 1 && input.size(-1) == in_features_,
      "Linear::forward: expected input of shape (..., {}) for weight of shape {}, got input of shape {}",
      in_features_, shape_str(weight.shape()), shape_str(input.shape()));
  if (input.dim() == 2) return linear(input, weight, bias);
  // linear() takes (N, in): fold every leading dimension into N (none for a 1-D input).
  Shape out_shape(input.shape().begin(), input.shape().end() - 1);
  out_shape.push_back(out_features_);
  const Tensor x2 = input.reshape({input.numel() / in_features_, in_features_});
  return linear(x2, weight, bias).reshape(out_shape);
  // END SOLUTION
}

std::string Linear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", in_features_, out_features_,
                     has_bias() ? "True" : "False");
}

}  // namespace tinyml::nn

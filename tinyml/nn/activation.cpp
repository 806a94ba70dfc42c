#include "tinyml/nn/activation.hpp"

#include "tinyml/ops/ops.hpp"

namespace tinyml::nn {

namespace {

const Tensor& need(const Tensor& input, const char* fn) {
  TINYML_CHECK(input.defined(), "{}: the input is undefined", fn);
  return input;
}

}  // namespace

Tensor ReLU::forward(const Tensor& input) { return relu(need(input, "ReLU::forward")); }
Tensor Sigmoid::forward(const Tensor& input) { return sigmoid(need(input, "Sigmoid::forward")); }
Tensor Tanh::forward(const Tensor& input) { return tanh(need(input, "Tanh::forward")); }
Tensor Softmax::forward(const Tensor& input) { return softmax(need(input, "Softmax::forward"), dim_); }
Tensor LogSoftmax::forward(const Tensor& input) {
  return log_softmax(need(input, "LogSoftmax::forward"), dim_);
}

std::string Softmax::extra_repr() const { return fmt::format("dim={}", dim_); }
std::string LogSoftmax::extra_repr() const { return fmt::format("dim={}", dim_); }

}  // namespace tinyml::nn

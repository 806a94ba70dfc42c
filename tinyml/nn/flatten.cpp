#include "tinyml/nn/flatten.hpp"

namespace tinyml::nn {

Tensor Flatten::forward(const Tensor& input) {
  TINYML_CHECK(input.defined(), "Flatten::forward: the input is undefined");
  return input.flatten(start_dim_, end_dim_);
}

std::string Flatten::extra_repr() const {
  return fmt::format("start_dim={}, end_dim={}", start_dim_, end_dim_);
}

}  // namespace tinyml::nn

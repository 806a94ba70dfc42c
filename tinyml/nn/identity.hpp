// Identity: the layer that returns its input, a placeholder where a layer is switched off.
#pragma once

#include <string>

#include "tinyml/nn/module.hpp"

namespace tinyml::nn {

// Returns its input; a placeholder where a layer is switched off (e.g. replacing a Dropout, or the
// ReLU a quantized layer has fused into its output pass).
class Identity : public Module {
 public:
  Tensor forward(const Tensor& input) override { return input; }
  std::string type_name() const override { return "Identity"; }
};

}  // namespace tinyml::nn

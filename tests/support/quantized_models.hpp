// Test support: quantized copies of a float Sequential built layer by layer, without quantize_model.
#pragma once

#include <memory>
#include <optional>

#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/sequential.hpp"
#include "tinyml/quant/calibrate.hpp"
#include "tinyml/quant/quantized_linear.hpp"

namespace tinyml_test {

// A new Sequential in eval mode with each Linear of `model` replaced by a QuantizedLinear in `mode`
// (static mode takes each input's qparams from `calib`); the other children are shared.
inline std::shared_ptr<tinyml::nn::Sequential> replace_linears(
    const tinyml::nn::Sequential& model, tinyml::quant::QuantMode mode, const tinyml::quant::QuantSpec& spec,
    const tinyml::quant::CalibrationResult* calib) {
  namespace q = tinyml::quant;
  auto out = std::make_shared<tinyml::nn::Sequential>();
  for (const auto& [name, child] : model.named_children()) {
    if (auto lin = std::dynamic_pointer_cast<tinyml::nn::Linear>(child)) {
      std::optional<q::QParams> input;
      if (mode == q::QuantMode::Static) input = calib->at(name).qparams;
      out->push_back(name, q::QuantizedLinear::from_float(*lin, spec, mode, input));
    } else {
      out->push_back(name, child);
    }
  }
  out->eval();
  return out;
}

}  // namespace tinyml_test

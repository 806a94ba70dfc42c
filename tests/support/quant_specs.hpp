// Test support: quantization specs that several tests use.
#pragma once

#include "tinyml/quant/qparams.hpp"

namespace tinyml_test {

// Symmetric, per-tensor, signed: the spec of a `bits`-bit weight in its simplest form.
inline tinyml::quant::QuantSpec symmetric(int bits) {
  using namespace tinyml::quant;
  return {bits, Scheme::Symmetric, Granularity::PerTensor, 0, true};
}

}  // namespace tinyml_test

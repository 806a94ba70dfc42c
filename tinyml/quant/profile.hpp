// Profiling a model layer by layer: parameters, bytes, FLOPs, activation memory and time, float or quantized.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/module.hpp"

namespace tinyml::quant {

// One leaf layer of a profiled forward pass.
struct LayerProfile {
  std::string name;  // as in named_modules(): "0", "block.1"
  std::string type;  // type_name(): "Linear", "QuantizedLinear", "ReLU"
  Shape input_shape;
  Shape output_shape;
  int64_t parameters = 0;  // values of its weights and biases (float, or the integers of a quantized layer)
  size_t bytes = 0;        // bytes it holds: 4 per fp32 value, or a QuantizedLinear's memory_usage()
  int bits = 32;           // weight bits: 32 for float layers, the spec's for a QuantizedLinear
  int64_t flops = 0;       // flops_of its forward on this input
  size_t activation_bytes = 0;  // its output, 4 bytes per value
  double seconds = 0.0;         // its forward's time, the mean over the runs
  size_t int8_bytes = 0;        // quantized_bytes(…, 8, …) for a float Linear; `bytes` otherwise
  size_t int4_bytes = 0;        // quantized_bytes(…, 4, …) for a float Linear; `bytes` otherwise
};

struct ModelProfile {
  Shape input_shape;
  int runs = 0;
  double seconds = 0.0;  // the whole forward pass, the mean over the runs
  std::vector<LayerProfile> layers;
  int64_t parameters() const;
  size_t bytes() const;
  int64_t flops() const;
  size_t activation_bytes() const;
  size_t int8_bytes() const;
  size_t int4_bytes() const;
};

// FLOPs of one forward of `m` from `in` to `out`: 2·in·out per row for a Linear or QuantizedLinear
// (a multiply and an add per weight) plus out per row for its bias; one per output element for
// ReLU (a compare); 0 for any other layer (Identity, Dropout in eval).
int64_t flops_of(const nn::Module& m, const Shape& in, const Shape& out);

// Bytes a Linear (out, in) holds as a weight-only QuantizedLinear at `bits` (2..8), per output
// channel: the weight's integer storage (one byte per value from 5 bits up, two per byte at 4
// bits and below, each row starting on a byte), a float scale and an int32 zero point per output
// channel, and the fp32 bias if it has one. The same count as QuantizedLinear::memory_usage().
size_t quantized_bytes(int64_t out, int64_t in, int bits, bool bias);

// Runs `input` through `model` `runs` times (in eval mode, without recording a graph; the mode is
// restored) and measures every leaf layer with a forward pre-hook and a forward hook: shapes,
// parameters, bytes, FLOPs, output bytes and mean time. The hooks are removed whatever happens.
// Throws for an undefined or empty input or runs outside 1..1000000.
ModelProfile profile(nn::Module& model, const Tensor& input, int runs = 3);

// A fixed-width table of the profile: one row per layer (name, type, output shape, parameters,
// bytes, bits, FLOPs, activation bytes, time and its share), the totals, and what int8 and int4
// weights would save per float Linear.
std::string format_profile(const ModelProfile& p);

}  // namespace tinyml::quant

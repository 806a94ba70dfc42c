// Precision lab: what fp16, bf16, int8 and int4 do to numbers and to one layer's output, and how few
// bits a weight needs for an error bound. (`tinyml precision` adds the pictures, a trained model's
// layers and how many predictions of a wide classifier flip.)
// Usage: precision_lab
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tinyml/nn/linear.hpp"
#include "tinyml/quant/precision.hpp"

using namespace tinyml;
using quant::NumberFormat;

namespace {

// "inf" and "nan" print the same on every platform; dB values can be +Inf for an exact format.
std::string db(double v) { return std::isinf(v) ? (v > 0 ? "inf" : "-inf") : fmt::format("{:.1f}", v); }

}  // namespace

int main(int argc, char** /*argv*/) {
  if (argc > 1) {
    fmt::print(stderr, "usage: precision_lab (no arguments)\n");
    return 2;
  }
  try {
    Generator gen(0);

    // 1. Single values. fp16 has 5 exponent bits and 10 mantissa bits: fine steps but a range that
    //    ends at 65504 and underflows below 2^-24. bf16 keeps float's 8 exponent bits and only 7
    //    mantissa bits: float's whole range, about 3 significant digits.
    fmt::print("1. single values: stored bits and the value read back\n");
    fmt::print("{:>14}  {:>6}  {:>14}  {:>6}  {:>14}\n", "float", "fp16", "fp16 value", "bf16", "bf16 value");
    for (float x : {1.0f / 3.0f, 0.1f, 3.14159265f, 65504.0f, 70000.0f, 1e-5f, 1e-8f, -0.0f}) {
      const uint16_t h = quant::float_to_half_bits(x);
      const uint16_t b = quant::float_to_bfloat16_bits(x);
      fmt::print("{:>14.8g}  0x{:04x}  {:>14.8g}  0x{:04x}  {:>14.8g}\n", x, h, quant::half_bits_to_float(h),
                 b, quant::bfloat16_bits_to_float(b));
    }

    // 2. A whole tensor of N(0, 1) values through each format. The integer formats use one scale for
    //    the tensor (affine min/max), so their error depends on the range, not on each value's size.
    const Tensor values = Tensor::randn({10000}, gen);
    fmt::print("\n2. round trip of 10000 N(0, 1) values\n");
    fmt::print("{:<6}  {:>8}  {:>13}  {:>13}  {:>8}\n", "format", "bytes", "max abs err", "mean rel err",
               "SNR dB");
    for (NumberFormat f : {NumberFormat::FP32, NumberFormat::FP16, NumberFormat::BF16, NumberFormat::INT8,
                           NumberFormat::INT4}) {
      const Tensor back = quant::round_trip(values, f);
      fmt::print("{:<6}  {:>8}  {:>13.3e}  {:>13.3e}  {:>8}\n", quant::to_string(f),
                 quant::stored_bytes(values, f), quant::max_abs_error(values, back),
                 quant::mean_relative_error(values, back), db(quant::snr_db(values, back)));
    }

    // 3. One layer, y = X·Wᵀ, with W and X stored in each format and fp32 accumulation: the error
    //    that reaches the next layer. W is a freshly initialised 784 → 256 Linear, X image-like
    //    inputs in [0, 1).
    const nn::Linear layer(784, 256, true, gen);
    const Tensor x = Tensor::rand({64, 784}, gen);
    fmt::print("\n3. one layer 784 -> 256 on 64 inputs\n");
    fmt::print("{:<6}  {:>10}  {:>13}  {:>13}  {:>10}  {:>13}\n", "format", "W bytes", "mean abs err",
               "mean rel err", "out SNR dB", "weight SNR dB");
    for (NumberFormat f : {NumberFormat::FP16, NumberFormat::BF16, NumberFormat::INT8, NumberFormat::INT4}) {
      const quant::PrecisionReport r = quant::analyze_layer_precision(layer.weight, x, f);
      fmt::print("{:<6}  {:>10}  {:>13.3e}  {:>13.3e}  {:>10}  {:>13}\n", quant::to_string(f), r.weight_bytes,
                 r.mean_abs_error, r.mean_relative_error, db(r.snr_db), db(r.weight_snr_db));
    }

    // 4. The fewest bits that keep the weight's mean relative error under a bound: the answer to
    //    "how small can this tensor get" for a given tolerance. Widths of 5 to 8 bits take one byte
    //    per value and 4 bits or fewer are packed two per byte, so compression moves in two steps.
    fmt::print("\n4. smallest bit width for the layer's weight\n");
    fmt::print("{:>9}  {:>5}  {:>11}  {:>12}\n", "max error", "bits", "error", "compression");
    for (double bound : {0.01, 0.02, 0.05, 0.1, 0.2, 0.5}) {
      const quant::BitwidthChoice c = quant::find_optimal_bitwidth(layer.weight, bound);
      fmt::print("{:>9.2f}  {:>5}  {:>11.4f}  {:>11.2f}x\n", bound,
                 c.found ? fmt::format("{}", c.bits) : "fp32", c.relative_error, c.compression_ratio);
    }
  } catch (const Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}

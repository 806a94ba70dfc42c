// QuantizedLinear: a Linear whose weight is stored as integers; weight-only, dynamic and static modes.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tinyml/kernels/qgemm_packed.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/module.hpp"
#include "tinyml/quant/qparams.hpp"
#include "tinyml/quant/qtensor.hpp"

namespace tinyml::quant {

// WeightOnly: dequantize the integer weight, then sgemm (the readable path; any bit width).
// Dynamic: quantize each input batch with its own min/max (uint8 affine), int8 GEMM, float out.
// Static: inputs quantized with calibrated qparams, int8 GEMM, int32 bias of scale s_x·s_w,
//         optional fused ReLU, float out.
// Dynamic and Static take signed weights of any width 2..8; packed 2..4-bit weights are widened to
// bytes for each call's GEMM, so they keep their 4-bit storage and run at int8 speed.
enum class QuantMode { WeightOnly, Dynamic, Static };
const char* to_string(QuantMode mode);             // "weight-only", "dynamic", "static"
QuantMode parse_quant_mode(const std::string& s);  // the inverse; anything else throws

// Bytes a layer really holds, and the fp32 bytes of the Linear it replaced.
struct MemoryUsage {
  size_t weight_bytes = 0;   // integer storage of the weight (4-bit packed, or the int8 GEMM's layout)
  size_t bias_bytes = 0;     // int32 bias (static) or fp32 bias
  size_t qparams_bytes = 0;  // scales and zero points (weight, and input for static)
  size_t cache_bytes = 0;    // weight channel sums of the integer path; the copy weight() unpacked
  size_t total() const { return weight_bytes + bias_bytes + qparams_bytes + cache_bytes; }
  size_t fp32_bytes = 0;  // (out·in + out)·4 of the original Linear
};

class QuantizedLinear : public nn::Module {
  // Only this class can make a Key, so only from_float / from_parts can construct (through
  // std::make_shared, which needs a public constructor).
  struct Key {
    explicit Key() = default;
  };

 public:
  // Quantizes `linear`'s weight with `weight_spec` (qparams from the weight's min/max, or from
  // `weight_qparams` when given — e.g. an MSE-chosen clipping range). Static mode needs
  // `input_qparams` (from calibration). Dynamic and Static need a signed weight spec of
  // 2..8 bits (symmetric, or affine with is_signed).
  static std::shared_ptr<QuantizedLinear> from_float(const nn::Linear& linear, const QuantSpec& weight_spec,
                                                     QuantMode mode,
                                                     std::optional<QParams> input_qparams = std::nullopt,
                                                     bool fuse_relu = false,
                                                     std::optional<QParams> weight_qparams = std::nullopt);
  // From stored parts (used when loading a file). `bias` is the fp32 bias or undefined. Static
  // mode keeps only the int32 bias: give it as `bias_int32` (one entry per output channel, as a
  // file stores it), or give the fp32 `bias` and it is quantized as from_float does; not both.
  static std::shared_ptr<QuantizedLinear> from_parts(QTensor weight, Tensor bias, QuantMode mode,
                                                     std::optional<QParams> input_qparams, bool fuse_relu,
                                                     std::vector<int32_t> bias_int32 = {});
  // The activation spec of Dynamic mode: uint8 affine per tensor, qparams from each batch's min/max.
  static QuantSpec dynamic_input_spec() { return QuantSpec::int8_affine(); }

  // (..., in) → float (..., out); (N, in) and (in) being the usual cases. Inference only: an input
  // that requires grad while grad mode is on throws (train through quantization with QAT instead).
  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "QuantizedLinear"; }
  std::string extra_repr() const override;

  // Reachable only through from_float / from_parts (see Key).
  QuantizedLinear(Key, QTensor weight, Tensor bias, QuantMode mode, std::optional<QParams> input_qparams,
                  bool fuse_relu, std::vector<int32_t> bias_int32);

  MemoryUsage memory_usage() const;
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  QuantMode mode() const { return mode_; }
  bool fused_relu() const { return fuse_relu_; }
  // The integer weight (out, in). A Dynamic or Static layer with 5..8-bit weights and uint8 inputs
  // holds its weight only in the int8 GEMM's packed layout, from construction on (weight_packed();
  // not on CPUs without exact packed kernels, nor when padding would add more than 1/8). weight()
  // of such a layer unpacks it once, on its first call, and keeps that copy for the layer's life
  // (memory_usage() counts it as cache), so a reference from it stays valid and weight() may run
  // while other threads call forward(). Code that should not keep a second copy (saving, reports,
  // export) uses unpacked_weight() or weight_qparams().
  const QTensor& weight() const;
  QTensor unpacked_weight() const;        // the weight by value, in QTensor's layout
  const QParams& weight_qparams() const;  // weight().qparams() without unpacking
  bool weight_packed() const { return packed_ != nullptr; }
  bool has_bias() const { return bias_.defined() || !bias_int32_.empty(); }
  // The fp32 bias as given; in Static mode, which holds only the int32 bias, that bias
  // dequantized (b_q · s_x · s_w[j]). Undefined if there is none.
  Tensor bias() const;
  const std::optional<QParams>& input_qparams() const { return input_qparams_; }
  const std::vector<int32_t>& bias_int32() const { return bias_int32_; }   // static mode only
  const std::vector<int32_t>& weight_colsum() const { return w_colsum_; }  // Dynamic/Static only

 private:
  Tensor forward_integer(const Tensor& x2);  // Dynamic and Static on (M, in)
  void pack_weight();                        // sets packed_ when the layer's product has a packed form

  int64_t in_ = 0, out_ = 0;
  QTensor weight_;  // undefined when packed_ holds the weight
  // The weight in oneDNN's matmul layout (Dynamic and Static with uint8 inputs, 5..8-bit weights,
  // exact kernels on this CPU), and its qparams; null otherwise.
  std::unique_ptr<const kernels::PackedWeightS8> packed_;
  QParams packed_qparams_;
  // weight() of a packed layer: unpacked on its first call and kept (under the mutex). The other
  // members never change after construction.
  mutable std::mutex weight_mutex_;
  mutable std::optional<QTensor> unpacked_;
  Tensor bias_;
  QuantMode mode_;
  std::optional<QParams> input_qparams_;
  bool fuse_relu_;
  // Precomputed once and counted by memory_usage(): the weight's per-output-channel sums (the
  // zero-point correction term) and the int32 bias. The int8 GEMM reads the QTensor's bytes
  // directly (Dynamic/Static weights are stored signed; a packed one is widened per call), and
  // WeightOnly dequantizes on each forward, so no float or int8 copy of the weight is kept. Static mode keeps
  // no fp32 bias (bias_ is undefined there): the int32 bias is what it computes with.
  std::vector<int32_t> w_colsum_;
  std::vector<int32_t> bias_int32_;
};

}  // namespace tinyml::quant

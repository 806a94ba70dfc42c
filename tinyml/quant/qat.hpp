// Quantization-aware training: QatLinear, prepare_qat (Linear → QatLinear), convert (→ QuantizedLinear).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/module.hpp"
#include "tinyml/quant/fake_quantize.hpp"
#include "tinyml/quant/qparams.hpp"
#include "tinyml/quant/quantize_model.hpp"

namespace tinyml::quant {

// The QuantConfig quantization-aware training usually runs with: int<bits> symmetric per-channel
// weights, uint<bits> affine per-tensor activations whose range is a moving average of each
// batch's min/max ("moving-average", as PyTorch's default QAT qconfig), Static mode.
// prepare_qat also takes any other QuantConfig with mode Static and weight_range "minmax"; its
// observer then runs at every training step (a "histogram" one recomputes its search each time).
QuantConfig qat_config(int bits);

// A Linear trained with quantization in the loop: y = fq_x(x) · fq_w(W)ᵀ + b̂, where b̂ is the bias
// rounded to steps of s_x·s_w[j] — the int32 bias a static QuantizedLinear holds — so that the
// model trained is the model convert() produces. It holds the very weight and bias tensors of the
// Linear it wraps (same storage, same autograd leaves), so an optimizer built over the float model
// keeps training them, and its parameters keep the names "weight" and "bias": the state_dict of a
// prepared model has the float model's keys.
class QatLinear : public nn::Module {
 public:
  QatLinear(std::shared_ptr<nn::Linear> linear, std::shared_ptr<FakeQuantize> input_fake_quant,
            std::shared_ptr<FakeQuantize> weight_fake_quant);
  // With fake quantizers built from `config`: the input's from activation_spec and config.observer
  // (accumulating over batches), the weight's from weight_spec and the min/max of the current weight.
  QatLinear(std::shared_ptr<nn::Linear> linear, const QuantConfig& config);

  Tensor forward(const Tensor& input) override;
  std::string type_name() const override { return "QatLinear"; }
  std::string extra_repr() const override;

  const std::shared_ptr<nn::Linear>& linear() const { return linear_; }
  FakeQuantize& input_fake_quant() { return *input_fq_; }
  FakeQuantize& weight_fake_quant() { return *weight_fq_; }
  const FakeQuantize& input_fake_quant() const { return *input_fq_; }
  const FakeQuantize& weight_fake_quant() const { return *weight_fq_; }
  int64_t in_features() const { return linear_->in_features(); }
  int64_t out_features() const { return linear_->out_features(); }

  // The bias as the converted layer will hold it (straight-through gradient); the plain bias while
  // either fake quantizer is disabled or has no qparams yet.
  Tensor fake_quantized_bias() const;

  Tensor weight;  // the Linear's weight (out, in): the same tensor
  Tensor bias;    // the Linear's bias or undefined

 private:
  std::shared_ptr<nn::Linear> linear_;
  std::shared_ptr<FakeQuantize> input_fq_;
  std::shared_ptr<FakeQuantize> weight_fq_;
};

// Replaces every nn::Linear in the tree (nested modules walked) that config.skip does not name by
// a QatLinear sharing its parameters; skip entries work as in quantize_model (a layer's name as in
// named_modules(), a container's name, "first", "last"). Returns the names of the layers replaced,
// in tree order. Throws, leaving the model unchanged, on a skip entry that matches no Linear, a
// tree with no Linear to prepare, a mode other than Static (what convert produces), a weight_range
// other than "minmax", an unknown observer, and specs that do not suit their role (activations
// per channel, weights per channel along an axis other than 0).
std::vector<std::string> prepare_qat(nn::Module& model, const QuantConfig& config = qat_config(8));

// Replaces every QatLinear by a QuantizedLinear in Static mode, quantized with the learned input
// qparams and the weight fake quantizer's qparams, so that it computes what the QatLinear computes
// in eval mode (same integers, same int32 bias) up to float rounding of the accumulation. Weights keep
// their bit width and storage (4-bit weights stay packed, two per byte). With `fuse_relu`, a QatLinear
// followed by a ReLU inside a Sequential computes the ReLU in its output pass and the ReLU becomes
// nn::Identity. Returns the names converted. Throws, leaving the model unchanged, if a QatLinear never
// observed its input (train, or set its qparams, first) or the tree holds none.
std::vector<std::string> convert(nn::Module& model, bool fuse_relu = true);

// Turns observation on or off in every FakeQuantize of the tree (freezing the ranges for the
// last steps of training, as is usual in QAT). Returns how many it touched.
int enable_observers(nn::Module& model, bool on);
// Turns fake quantization on or off in every FakeQuantize of the tree. Returns how many it touched.
int enable_fake_quant(nn::Module& model, bool on);

// Runs `batches` through a prepared model in training mode without recording gradients or
// changing a weight: every FakeQuantize's observer records the ranges it sees. These are the
// ranges post-training quantization uses (convert right after) and the starting ranges of QAT.
// The model's train/eval mode is set back afterwards.
void observe_ranges(nn::Module& model, const std::vector<Tensor>& batches);

}  // namespace tinyml::quant

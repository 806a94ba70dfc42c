#include "tinyml/quant/precision.hpp"

#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <utility>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/quant/qtensor.hpp"

namespace tinyml::quant {

namespace {

QuantSpec per_channel_symmetric(int bits) {
  return QuantSpec{bits, Scheme::Symmetric, Granularity::PerChannel, 0, true};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// analyze_layer_precision

PrecisionReport analyze_layer_precision(const Tensor& W, const Tensor& X, NumberFormat format) {
  constexpr const char* fn = "analyze_layer_precision";
  TINYML_CHECK(W.defined() && X.defined(), "{}: got an undefined tensor", fn);
  TINYML_CHECK(W.dim() == 2 && X.dim() == 2 && W.size(1) == X.size(1),
               "{}: expected W (out, in) and X (N, in) with the same in, got W {} and X {}", fn,
               shape_str(W.shape()), shape_str(X.shape()));
  check_finite(W, fn, "W");
  check_finite(X, fn, "X");
  NoGradGuard no_grad;
  const Tensor w = W.detach().contiguous(), x = X.detach().contiguous();

  // Weights as a QuantizedLinear stores them (symmetric per channel), inputs per tensor (round_trip).
  std::optional<QTensor> qw;
  if (is_integer(format)) qw = QTensor::quantize(w, per_channel_symmetric(bits_of(format)));
  const Tensor wq = qw ? qw->dequantize() : round_trip(w, format);
  const Tensor xq = round_trip(x, format);

  const Tensor y = matmul(x, w.t());
  const Tensor yq = matmul(xq, wq.t());
  PrecisionReport r;
  r.format = format;
  r.mean_abs_error = mean_abs_error(y, yq);
  r.max_abs_error = max_abs_error(y, yq);
  r.mean_relative_error = mean_relative_error(y, yq);
  r.snr_db = snr_db(y, yq);
  r.out_min = y.min().item();
  r.out_max = y.max().item();
  r.approx_min = yq.min().item();
  r.approx_max = yq.max().item();
  r.weight_snr_db = snr_db(w, wq);
  r.input_snr_db = snr_db(x, xq);
  r.weight_bytes = qw ? qw->nbytes() : stored_bytes(w, format);
  return r;
}

// ---------------------------------------------------------------------------------------------
// find_optimal_bitwidth

BitwidthChoice find_optimal_bitwidth(const Tensor& values, double max_rel_error) {
  constexpr const char* fn = "find_optimal_bitwidth";
  TINYML_CHECK(std::isfinite(max_rel_error) && max_rel_error > 0.0,
               "{}: max_rel_error must be a finite number > 0, got {}", fn, max_rel_error);
  check_finite(values, fn, "values");
  const Tensor v = values.detach().contiguous();
  BitwidthChoice c;
  // BEGIN SOLUTION 09: find_optimal_bitwidth: errors at 2..8 bits, and the smallest width meeting the bound
  const double fp32_bytes = 4.0 * static_cast<double>(v.numel());
  for (int b = 2; b <= 8; ++b) {
    const QTensor q = QTensor::quantize(v, per_tensor_affine(b));
    const double e = mean_relative_error(v, q.dequantize());
    c.errors.push_back(e);
    if (!c.found && e <= max_rel_error) {
      c.found = true;
      c.bits = b;
      c.relative_error = e;
      c.compression_ratio = fp32_bytes / static_cast<double>(q.nbytes());
    }
  }
  // END SOLUTION
  return c;
}

// ---------------------------------------------------------------------------------------------
// weight_error_table

namespace {
void collect_linears(const nn::Module& m, const std::string& prefix,
                     std::vector<std::pair<std::string, const nn::Linear*>>& out) {
  for (const auto& [name, child] : m.named_children()) {
    const std::string full = prefix.empty() ? name : prefix + "." + name;
    if (const auto* lin = dynamic_cast<const nn::Linear*>(child.get())) out.emplace_back(full, lin);
    collect_linears(*child, full, out);
  }
}
}  // namespace

std::vector<LayerError> weight_error_table(const nn::Module& model, int bits) {
  constexpr const char* fn = "weight_error_table";
  const QuantSpec spec = per_channel_symmetric(bits);
  spec.validate(fn);
  std::vector<std::pair<std::string, const nn::Linear*>> linears;
  if (const auto* self = dynamic_cast<const nn::Linear*>(&model)) linears.emplace_back("", self);
  collect_linears(model, "", linears);
  TINYML_CHECK(!linears.empty(), "{}: the {} holds no Linear layer", fn, model.type_name());

  std::vector<LayerError> rows;
  NoGradGuard no_grad;
  for (const auto& [name, lin] : linears) {
    const Tensor w = lin->weight.detach().contiguous();
    check_finite(w, fn, fmt::format("the weight of '{}'", name).c_str());
    const QTensor q = QTensor::quantize(w, spec);
    const Tensor wq = q.dequantize();
    LayerError e;
    e.name = name;
    e.shape = w.shape();
    e.bits = bits;
    e.mse = mse(w, wq);
    e.max_abs_error = max_abs_error(w, wq);
    e.mean_relative_error = mean_relative_error(w, wq);
    e.snr_db = snr_db(w, wq);
    e.fp32_bytes = static_cast<size_t>(w.numel()) * sizeof(float);
    e.quantized_bytes = q.nbytes();
    rows.push_back(std::move(e));
  }
  return rows;
}

}  // namespace tinyml::quant

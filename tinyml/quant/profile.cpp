// The profiler: hooks around every leaf layer, a table of where the time and the bytes go (course module 07).
#include "tinyml/quant/profile.hpp"

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <memory>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/quant/qtensor.hpp"
#include "tinyml/quant/quantized_linear.hpp"

namespace tinyml::quant {

namespace {

using Clock = std::chrono::steady_clock;

// Rows of a (…, features) shape, and elements of a shape: for flops_of and profile.
[[maybe_unused]] int64_t rows_of(const Shape& s) {
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < s.size(); ++d) rows *= s[d];
  return rows;
}

// Parameters, bytes and weight bits of one layer.
void storage_of(const nn::Module& m, LayerProfile& l) {
  if (const auto* q = dynamic_cast<const QuantizedLinear*>(&m)) {
    l.parameters = q->out_features() * q->in_features() + (q->has_bias() ? q->out_features() : 0);
    l.bytes = q->memory_usage().total();
    l.bits = q->weight_qparams().spec.bits;
  } else {
    for (const Tensor& p : m.parameters()) l.parameters += p.numel();
    l.bytes = static_cast<size_t>(l.parameters) * sizeof(float);
  }
  l.int8_bytes = l.int4_bytes = l.bytes;
  if (const auto* lin = dynamic_cast<const nn::Linear*>(&m)) {
    const bool bias = lin->bias.defined();
    l.int8_bytes = quantized_bytes(lin->out_features(), lin->in_features(), 8, bias);
    l.int4_bytes = quantized_bytes(lin->out_features(), lin->in_features(), 4, bias);
  }
}

// Restores a module's train/eval mode on the way out.
class EvalGuard {
 public:
  explicit EvalGuard(nn::Module& m) : m_(m), was_(m.is_training()) { m_.eval(); }
  ~EvalGuard() { m_.train(was_); }
  EvalGuard(const EvalGuard&) = delete;
  EvalGuard& operator=(const EvalGuard&) = delete;

 private:
  nn::Module& m_;
  bool was_;
};

// Removes hooks on the way out.
struct Hooks {
  std::vector<nn::HookHandle> handles;
  ~Hooks() {
    for (nn::HookHandle& h : handles) h.remove();
  }
};

}  // namespace

// The sum of one field over the layers.
template <class T>
T sum_of(const std::vector<LayerProfile>& layers, T LayerProfile::*field) {
  T n = 0;
  for (const LayerProfile& l : layers) n += l.*field;
  return n;
}

int64_t ModelProfile::parameters() const { return sum_of(layers, &LayerProfile::parameters); }
size_t ModelProfile::bytes() const { return sum_of(layers, &LayerProfile::bytes); }
int64_t ModelProfile::flops() const { return sum_of(layers, &LayerProfile::flops); }
size_t ModelProfile::activation_bytes() const { return sum_of(layers, &LayerProfile::activation_bytes); }
size_t ModelProfile::int8_bytes() const { return sum_of(layers, &LayerProfile::int8_bytes); }
size_t ModelProfile::int4_bytes() const { return sum_of(layers, &LayerProfile::int4_bytes); }

int64_t flops_of(const nn::Module& m, const Shape& in, const Shape& out) {
  // BEGIN SOLUTION 07: flops_of: 2 per weight per row for a Linear, plus the bias; 1 per ReLU output
  (void)in;
  const int64_t rows = rows_of(out);
  if (const auto* l = dynamic_cast<const nn::Linear*>(&m))
    return rows * (2 * l->in_features() * l->out_features() + (l->bias.defined() ? l->out_features() : 0));
  if (const auto* q = dynamic_cast<const QuantizedLinear*>(&m))
    return rows * (2 * q->in_features() * q->out_features() + (q->has_bias() ? q->out_features() : 0));
  if (dynamic_cast<const nn::ReLU*>(&m) != nullptr) return numel_of(out);
  return 0;
  // END SOLUTION
}

size_t quantized_bytes(int64_t out, int64_t in, int bits, bool bias) {
  TINYML_CHECK(out > 0 && in > 0, "quantized_bytes: a Linear needs out, in > 0, got ({}, {})", out, in);
  TINYML_CHECK(bits >= 2 && bits <= 8, "quantized_bytes: bits must be in 2..8, got {}", bits);
  // BEGIN SOLUTION 07: quantized_bytes: weight storage (packed at <= 4 bits), qparams per row, bias
  const int64_t row_bytes = bits <= 4 ? packed_row_bytes(in) : in;
  const auto rows = static_cast<size_t>(out);
  return rows * static_cast<size_t>(row_bytes) + rows * (sizeof(float) + sizeof(int32_t)) +
         (bias ? rows * sizeof(float) : 0);
  // END SOLUTION
}

ModelProfile profile(nn::Module& model, const Tensor& input, int runs) {
  TINYML_CHECK(input.defined() && input.numel() > 0, "profile: needs a non-empty input tensor");
  TINYML_CHECK(runs >= 1 && runs <= 1000000, "profile: runs must be in 1..1000000, got {}", runs);
  ModelProfile p;
  p.input_shape = input.shape();
  p.runs = runs;
  std::vector<std::pair<std::string, nn::Module*>> leaves;  // the model itself if it has no children
  if (model.named_children().empty()) leaves.emplace_back("", &model);
  for (const auto& [name, m] : model.named_modules())
    if (m->named_children().empty() && m.get() != &model) leaves.emplace_back(name, m.get());
  p.layers.resize(leaves.size());
  EvalGuard eval(model);
  NoGradGuard no_grad;
  Hooks hooks;
  std::vector<Clock::time_point> started(leaves.size());
  for (size_t i = 0; i < leaves.size(); ++i) {
    p.layers[i].name = leaves[i].first;
    p.layers[i].type = leaves[i].second->type_name();
    storage_of(*leaves[i].second, p.layers[i]);
  }
  // BEGIN SOLUTION 07: profile: a pre-hook starts each leaf's clock, a hook stops it and records the output
  for (size_t i = 0; i < leaves.size(); ++i) {
    nn::Module& m = *leaves[i].second;
    hooks.handles.push_back(m.register_forward_pre_hook([&, i](nn::Module&, const Tensor& x) {
      p.layers[i].input_shape = x.shape();
      started[i] = Clock::now();
    }));
    hooks.handles.push_back(m.register_forward_hook([&, i](nn::Module& self, const Tensor&, const Tensor& y) {
      LayerProfile& r = p.layers[i];
      r.seconds += std::chrono::duration<double>(Clock::now() - started[i]).count();
      r.output_shape = y.shape();
      r.activation_bytes = static_cast<size_t>(numel_of(y.shape())) * sizeof(float);
      r.flops = flops_of(self, r.input_shape, r.output_shape);
    }));
  }
  for (int run = 0; run < runs; ++run) {
    const Clock::time_point t0 = Clock::now();
    model(input);
    p.seconds += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  for (LayerProfile& l : p.layers) l.seconds /= runs;
  p.seconds /= runs;
  // END SOLUTION
  return p;
}

std::string format_profile(const ModelProfile& p) {
  const auto kib = [](size_t b) { return fmt::format("{:.1f} KiB", static_cast<double>(b) / 1024.0); };
  std::string out = fmt::format("input {}, mean of {} runs\n\n", shape_str(p.input_shape), p.runs);
  out += fmt::format("{:<10} {:<16} {:<12} {:>10} {:>12} {:>5} {:>12} {:>12} {:>10} {:>6}\n", "layer", "type",
                     "output", "params", "bytes", "bits", "FLOPs", "activations", "time", "time%");
  double layer_seconds = 0.0;
  for (const LayerProfile& l : p.layers) layer_seconds += l.seconds;
  for (const LayerProfile& l : p.layers)
    out += fmt::format("{:<10} {:<16} {:<12} {:>10} {:>12} {:>5} {:>12} {:>12} {:>8.3f}ms {:>5.1f}%\n",
                       l.name.empty() ? "(model)" : l.name, l.type, shape_str(l.output_shape), l.parameters,
                       kib(l.bytes), l.parameters > 0 ? std::to_string(l.bits) : "-", l.flops,
                       kib(l.activation_bytes), 1e3 * l.seconds,
                       layer_seconds > 0 ? 100.0 * l.seconds / layer_seconds : 0.0);
  out +=
      fmt::format("{:<10} {:<16} {:<12} {:>10} {:>12} {:>5} {:>12} {:>12} {:>8.3f}ms\n", "total", "", "",
                  p.parameters(), kib(p.bytes()), "", p.flops(), kib(p.activation_bytes()), 1e3 * p.seconds);
  bool any = false;
  std::string savings = "\nquantizing the weights (weight-only, per channel):\n";
  for (const LayerProfile& l : p.layers) {
    if (l.int8_bytes == l.bytes && l.int4_bytes == l.bytes) continue;
    any = true;
    savings += fmt::format("  {:<10} {:>12} -> int8 {:>12} ({:.1f}x), int4 {:>12} ({:.1f}x)\n", l.name,
                           kib(l.bytes), kib(l.int8_bytes), static_cast<double>(l.bytes) / l.int8_bytes,
                           kib(l.int4_bytes), static_cast<double>(l.bytes) / l.int4_bytes);
  }
  if (any)
    out += savings + fmt::format("  {:<10} {:>12} -> int8 {:>12}, int4 {:>12}\n", "model", kib(p.bytes()),
                                 kib(p.int8_bytes()), kib(p.int4_bytes()));
  return out;
}

}  // namespace tinyml::quant

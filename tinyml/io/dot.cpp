// model_to_dot: the module tree walked once, layers written as DOT boxes, Sequential children chained.
#include "tinyml/io/dot.hpp"

#include <fmt/format.h>

#include "tinyml/autograd/dot_text.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/sequential.hpp"
#include "tinyml/quant/quantized_linear.hpp"

namespace tinyml::io {

namespace {

struct Writer {
  int64_t batch = 1;
  int64_t width = 0;  // features of the activation flowing into the next layer
  std::string text;
  std::string last;  // id of the box the next layer's edge starts from
  int count = 0;

  // (in, out) features of a linear layer, or nothing.
  static bool features(const nn::Module& m, int64_t& in, int64_t& out) {
    if (const auto* l = dynamic_cast<const nn::Linear*>(&m)) {
      in = l->in_features();
      out = l->out_features();
      return true;
    }
    if (const auto* q = dynamic_cast<const quant::QuantizedLinear*>(&m)) {
      in = q->in_features();
      out = q->out_features();
      return true;
    }
    return false;
  }

  std::string storage(const nn::Module& m) const {
    if (const auto* q = dynamic_cast<const quant::QuantizedLinear*>(&m)) {
      const quant::QuantSpec& s = q->weight_qparams().spec;
      return fmt::format("int{} {} {}, {}\\n{} bytes (fp32: {})", s.bits, quant::to_string(s.scheme),
                         quant::to_string(s.granularity), quant::to_string(q->mode()),
                         q->memory_usage().total(), q->memory_usage().fp32_bytes);
    }
    int64_t params = 0;
    for (const Tensor& p : m.parameters()) params += p.numel();
    return params > 0 ? fmt::format("fp32, {} parameters", params) : std::string("no parameters");
  }

  void layer(const std::string& name, nn::Module& m, const std::string& indent) {
    const std::string id = fmt::format("l{}", count++);
    int64_t in = width, out = width;
    features(m, in, out);
    TINYML_CHECK(in == width, "model_to_dot: layer '{}' ({}) takes {} features but receives {}", name,
                 m.type_name(), in, width);
    text += dot_node(indent, id,
                     fmt::format("{}: {}\\n({}, {}) -> ({}, {})\\n{}", dot_escape(name),
                                 dot_escape(m.type_name()), batch, in, batch, out, storage(m)));
    text += dot_edge(indent, last, id);
    last = id;
    width = out;
  }

  void walk(const std::string& prefix, nn::Module& m, const std::string& indent) {
    for (const auto& [child_name, child] : m.named_children()) {
      const std::string name = prefix.empty() ? child_name : fmt::format("{}.{}", prefix, child_name);
      if (child->named_children().empty()) {
        layer(name, *child, indent);
      } else {
        text += fmt::format("{}subgraph cluster_{} {{\n{}  label=\"{}: {}\";\n", indent, count++, indent,
                            dot_escape(name), dot_escape(child->type_name()));
        walk(name, *child, fmt::format("{}  ", indent));
        text += fmt::format("{}}}\n", indent);
      }
    }
  }
};

// The in_features of the first linear layer, depth first.
int64_t first_width(nn::Module& m) {
  int64_t in = 0, out = 0;
  if (Writer::features(m, in, out)) return in;
  for (const auto& entry : m.named_children())
    if (const int64_t w = first_width(*entry.second); w > 0) return w;
  return 0;
}

}  // namespace

std::string model_to_dot(nn::Module& model, int64_t batch) {
  TINYML_CHECK(batch >= 1, "model_to_dot: batch must be >= 1, got {}", batch);
  Writer w;
  w.batch = batch;
  w.width = first_width(model);
  TINYML_CHECK(w.width > 0,
               "model_to_dot: the model ({}) has no Linear or QuantizedLinear layer to take the "
               "input width from",
               model.type_name());
  w.text = "digraph model {\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n" +
           dot_node("  ", "input", fmt::format("input\\n({}, {})", batch, w.width));
  w.last = "input";
  if (model.named_children().empty())
    w.layer(model.type_name(), model, "  ");
  else
    w.walk("", model, "  ");
  w.text += dot_node("  ", "output", fmt::format("output\\n({}, {})", batch, w.width));
  w.text += dot_edge("  ", w.last, "output") + "}\n";
  return w.text;
}

}  // namespace tinyml::io

#include "tinyml/io/onnx_export.hpp"

#include <memory>

#include "tinyml/core/error.hpp"
#include "tinyml/core/file.hpp"
#include "tinyml/io/onnx_export_detail.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/dropout.hpp"
#include "tinyml/nn/flatten.hpp"
#include "tinyml/nn/linear.hpp"

namespace tinyml::io {

namespace detail = onnx_export_detail;
using onnx_graph::GraphBuilder;

std::string onnx_export_detail::linear_nodes(GraphBuilder& g, const std::string& x, const std::string& w,
                                             const std::string& b, OnnxLinearOp op, const std::string& stem) {
  if (op == OnnxLinearOp::Gemm) {
    std::vector<std::string> in{x, w};
    if (!b.empty()) in.push_back(b);
    onnx::NodeProto* n = g.node("Gemm", in, {stem + ".out"});
    onnx_graph::set_int_attr(n, "transB", 1);
    return n->output(0);
  }
  const std::string y = g.op("MatMul", {x, w}, stem + ".matmul");
  return b.empty() ? y : g.op("Add", {y, b}, stem + ".out");
}

namespace {

// The walk over the model: the current value and its feature count (the last dim, -1 unknown).
struct Walk {
  GraphBuilder& g;
  const OnnxExportOptions& options;
  std::string x = "input";
  int64_t features = -1;
  int64_t linears = 0;
};

void check_features(const Walk& w, int64_t in, const std::string& stem) {
  TINYML_CHECK(w.features < 0 || w.features == in,
               "export_onnx: layer '{}' takes {} features but the layer before gives {}", stem, in,
               w.features);
}

void float_linear(Walk& w, const nn::Linear& l, const std::string& stem) {
  const int64_t in = l.in_features(), out = l.out_features();
  check_features(w, in, stem);
  std::vector<float> weight = l.weight.detach().contiguous().to_vector();
  std::string wn;
  if (w.options.linear == OnnxLinearOp::Gemm)
    wn = w.g.floats(stem + ".weight", {out, in}, weight);
  else
    wn = w.g.floats(stem + ".weight_t", {in, out}, detail::transposed(weight, out, in));
  const std::string bn = l.has_bias() ? w.g.floats(stem + ".bias", {out}, l.bias.detach().to_vector()) : "";
  w.x = detail::linear_nodes(w.g, w.x, wn, bn, w.options.linear, stem);
  w.features = out;
  ++w.linears;
}

// Modules without parameters that map to one ONNX op of the same meaning.
struct OpRow {
  const char* type;
  const char* op;
};
constexpr OpRow kElementwise[] = {
    {"ReLU", "Relu"}, {"Tanh", "Tanh"}, {"Sigmoid", "Sigmoid"}, {"Identity", "Identity"}};

void walk(Walk& w, const nn::Module& m, const std::string& stem);

void walk_children(Walk& w, const nn::Module& m, const std::string& stem) {
  for (const auto& [name, child] : m.named_children())
    walk(w, *child, stem.empty() ? name : stem + "." + name);
}

void walk(Walk& w, const nn::Module& m, const std::string& stem) {
  const std::string type = m.type_name();
  if (type == "Sequential") return walk_children(w, m, stem);
  if (const auto* l = dynamic_cast<const nn::Linear*>(&m)) return float_linear(w, *l, stem);
  if (const auto* q = dynamic_cast<const quant::QuantizedLinear*>(&m)) {
    check_features(w, q->in_features(), stem);
    w.x = detail::quantized_linear_nodes(w.g, w.x, *q, w.options.linear, stem);
    w.features = q->out_features();
    ++w.linears;
    return;
  }
  if (dynamic_cast<const nn::Dropout*>(&m) != nullptr) return;  // the identity at inference
  for (const OpRow& row : kElementwise)
    if (type == row.type) {
      w.x = w.g.op(row.op, {w.x}, stem + "." + row.op);
      return;
    }
  if (const auto* f = dynamic_cast<const nn::Flatten*>(&m)) {
    TINYML_CHECK(
        f->start_dim() == 1 && f->end_dim() == -1,
        "export_onnx: layer '{}' is Flatten({}, {}); ONNX Flatten(axis=1) expresses only Flatten(1, -1)",
        stem, f->start_dim(), f->end_dim());
    onnx::NodeProto* n = w.g.node("Flatten", {w.x}, {stem + ".Flatten"});
    onnx_graph::set_int_attr(n, "axis", 1);
    w.x = n->output(0);
    w.features = -1;
    return;
  }
  TINYML_CHECK(
      false,
      "export_onnx: layer '{}' is a {}, which has no ONNX export (supported: Linear, QuantizedLinear, "
      "ReLU, Tanh, Sigmoid, Identity, Flatten, Dropout, Sequential)",
      stem, type);
}

int64_t first_in_features(const nn::Module& m) {
  if (const auto* l = dynamic_cast<const nn::Linear*>(&m)) return l->in_features();
  if (const auto* q = dynamic_cast<const quant::QuantizedLinear*>(&m)) return q->in_features();
  for (const auto& [name, child] : m.named_children())
    if (const int64_t in = first_in_features(*child); in > 0) return in;
  return -1;
}

void set_value_info(onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& dims) {
  v->set_name(name);
  onnx::TypeProto_Tensor* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  onnx::TensorShapeProto* s = t->mutable_shape();
  s->add_dim()->set_dim_param("N");
  for (int64_t d : dims) s->add_dim()->set_dim_value(d);
}

int checked_opset(const OnnxExportOptions& o) {
  const int hi = onnx_graph::max_opset();
  const int opset = o.opset == 0 ? hi : o.opset;
  TINYML_CHECK(
      opset >= 13 && opset <= hi,
      "export_onnx: opset {} is not supported; tinyml writes opsets 13 (per-channel DequantizeLinear) to {} "
      "(the newest the linked ONNX library checks)",
      opset, hi);
  return opset;
}

}  // namespace

std::string export_onnx_bytes(const nn::Sequential& model, const OnnxExportOptions& options) {
  const int opset = checked_opset(options);
  const int64_t in = first_in_features(model);
  TINYML_CHECK(in > 0, "export_onnx: the model has no Linear layer, so its input size is unknown");
  std::vector<int64_t> input_shape =
      options.input_shape.empty() ? std::vector<int64_t>{in} : options.input_shape;
  for (int64_t d : input_shape)
    TINYML_CHECK(d > 0, "export_onnx: input_shape [{}] must hold sizes > 0", fmt::join(input_shape, ", "));

  onnx::ModelProto proto;
  proto.set_ir_version(onnx::IR_VERSION);
  proto.set_producer_name("tinyml");
  proto.set_producer_version("0.1.0");
  onnx::OperatorSetIdProto* os = proto.add_opset_import();
  os->set_domain("");
  os->set_version(opset);
  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name("tinyml");
  GraphBuilder g(graph);
  const std::string out = g.fresh("output");  // reserved: no intermediate value takes it
  Walk w{g, options, g.fresh("input"), input_shape.size() == 1 ? input_shape[0] : -1};
  walk(w, model, "");
  TINYML_CHECK(w.linears > 0, "export_onnx: the model has no Linear layer");
  TINYML_CHECK(w.features > 0, "export_onnx: the model ends in a Flatten, so its output size is unknown");
  set_value_info(graph->add_input(), "input", input_shape);
  // The last node's output becomes the graph's output, under its reserved name.
  for (onnx::NodeProto& n : *graph->mutable_node())
    for (std::string& o : *n.mutable_output())
      if (o == w.x) o = out;
  set_value_info(graph->add_output(), out, {w.features});
  onnx_graph::check_model(proto, "export_onnx");
  std::string bytes;
  TINYML_CHECK(proto.SerializeToString(&bytes), "export_onnx: the model ({} bytes) cannot be serialized",
               proto.ByteSizeLong());
  return bytes;
}

void export_onnx(const nn::Sequential& model, const std::string& path, const OnnxExportOptions& options) {
  const std::string bytes = export_onnx_bytes(model, options);
  write_file_atomic(path, {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                    fmt::format("export_onnx('{}')", path));
}

}  // namespace tinyml::io

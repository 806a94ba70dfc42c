#include "tinyml/io/onnx_import.hpp"

#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/file.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/io/onnx_graph.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/flatten.hpp"
#include "tinyml/nn/identity.hpp"
#include "tinyml/nn/linear.hpp"

namespace tinyml::io {

namespace {

// A float initializer read out of its TensorProto.
struct FloatTensor {
  std::vector<int64_t> dims;
  std::vector<float> values;
};

class Importer {
 public:
  Importer(const onnx::GraphProto& graph, std::string who) : graph_(graph), who_(std::move(who)) {}
  std::shared_ptr<nn::Sequential> run();

 private:
  template <class... Args>
  [[noreturn]] void fail(const onnx::NodeProto& n, fmt::format_string<Args...> f, Args&&... args) const {
    throw Error(fmt::format("{}: node '{}' ({}): {}", who_, n.name(), n.op_type(),
                            fmt::format(f, std::forward<Args>(args)...)));
  }
  FloatTensor read_tensor(const onnx::TensorProto& t, const std::string& what) const;
  FloatTensor initializer(const onnx::NodeProto& n, int input) const;
  std::optional<int64_t> int_attr(const onnx::NodeProto& n, const std::string& name) const;
  float float_attr(const onnx::NodeProto& n, const std::string& name, float fallback) const;
  void check_chain(const onnx::NodeProto& n, int data_inputs) const;
  void add_linear(const onnx::NodeProto& n, const FloatTensor& w, bool w_is_out_in, const FloatTensor* b);
  void gemm(const onnx::NodeProto& n);
  int matmul(int index);  // returns how many nodes it used (MatMul, or MatMul + Add)

  const onnx::GraphProto& graph_;
  std::string who_;
  std::map<std::string, const onnx::TensorProto*> constants_;  // read when a layer uses them
  std::string x_;                                              // the value the next node must read
  int64_t features_ = -1;
  std::shared_ptr<nn::Sequential> model_ = std::make_shared<nn::Sequential>();
};

FloatTensor Importer::read_tensor(const onnx::TensorProto& t, const std::string& what) const {
  TINYML_CHECK(t.data_location() != onnx::TensorProto_DataLocation_EXTERNAL,
               "{}: tensor '{}' keeps its data in an external file, which import_onnx does not read", who_,
               what);
  TINYML_CHECK(t.data_type() == onnx::TensorProto_DataType_FLOAT,
               "{}: tensor '{}' is {}, but import_onnx reads FLOAT weights only", who_, what,
               onnx_graph::dtype_name(t.data_type()));
  FloatTensor r;
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    TINYML_CHECK(d >= 0 && (d == 0 || n <= std::numeric_limits<int32_t>::max() / d),
                 "{}: tensor '{}' has dims [{}], negative or too large", who_, what,
                 fmt::join(t.dims(), ", "));
    n *= d;
    r.dims.push_back(d);
  }
  const auto count = static_cast<size_t>(n);
  if (t.has_raw_data()) {
    TINYML_CHECK(t.raw_data().size() == count * sizeof(float),
                 "{}: tensor '{}' of dims [{}] holds {} bytes of raw data, expected {}", who_, what,
                 fmt::join(r.dims, ", "), t.raw_data().size(), count * sizeof(float));
    r.values.resize(count);
    if (count > 0) std::memcpy(r.values.data(), t.raw_data().data(), count * sizeof(float));
  } else {
    TINYML_CHECK(static_cast<size_t>(t.float_data_size()) == count,
                 "{}: tensor '{}' of dims [{}] holds {} floats, expected {}", who_, what,
                 fmt::join(r.dims, ", "), t.float_data_size(), count);
    r.values.assign(t.float_data().begin(), t.float_data().end());
  }
  return r;
}

FloatTensor Importer::initializer(const onnx::NodeProto& n, int input) const {
  if (input >= n.input_size()) fail(n, "input {} is missing", input);
  const auto it = constants_.find(n.input(input));
  if (it == constants_.end())
    fail(n, "input '{}' must be an initializer (a weight stored in the file)", n.input(input));
  return read_tensor(*it->second, it->first);
}

std::optional<int64_t> Importer::int_attr(const onnx::NodeProto& n, const std::string& name) const {
  for (const onnx::AttributeProto& a : n.attribute())
    if (a.name() == name) {
      if (a.type() != onnx::AttributeProto_AttributeType_INT)
        fail(n, "attribute '{}' is not an integer", name);
      return a.i();
    }
  return std::nullopt;
}

float Importer::float_attr(const onnx::NodeProto& n, const std::string& name, float fallback) const {
  for (const onnx::AttributeProto& a : n.attribute())
    if (a.name() == name) {
      if (a.type() != onnx::AttributeProto_AttributeType_FLOAT)
        fail(n, "attribute '{}' is not a float", name);
      return a.f();
    }
  return fallback;
}

void Importer::check_chain(const onnx::NodeProto& n, int data_inputs) const {
  if (!n.domain().empty() && n.domain() != "ai.onnx")
    fail(n, "domain '{}' is not the default ONNX domain", n.domain());
  if (n.input_size() < 1 || n.input(0) != x_)
    fail(n,
         "its first input '{}' is not the previous layer's output '{}' (only a chain of layers is supported)",
         n.input_size() > 0 ? n.input(0) : "", x_);
  for (int i = 1; i < data_inputs && i < n.input_size(); ++i)
    if (!n.input(i).empty() && !constants_.count(n.input(i)))
      fail(n, "input '{}' must be an initializer", n.input(i));
}

void Importer::add_linear(const onnx::NodeProto& n, const FloatTensor& w, bool w_is_out_in,
                          const FloatTensor* b) {
  if (w.dims.size() != 2 || w.dims[0] == 0 || w.dims[1] == 0)
    fail(n, "the weight must be a non-empty matrix, got dims [{}]", fmt::join(w.dims, ", "));
  const int64_t out = w_is_out_in ? w.dims[0] : w.dims[1], in = w_is_out_in ? w.dims[1] : w.dims[0];
  if (features_ >= 0 && features_ != in)
    fail(n, "the weight takes {} features but the layer before gives {}", in, features_);
  if (b != nullptr && static_cast<int64_t>(b->values.size()) != out)
    fail(n, "the bias has {} values (dims [{}]) for {} outputs", b->values.size(), fmt::join(b->dims, ", "),
         out);
  Generator gen(0);  // every value is overwritten below
  auto lin = std::make_shared<nn::Linear>(in, out, b != nullptr, gen);
  std::vector<float> wv = w.values;
  if (!w_is_out_in)  // (in, out) → (out, in)
    for (int64_t i = 0; i < in; ++i)
      for (int64_t o = 0; o < out; ++o)
        wv[static_cast<size_t>(o * in + i)] = w.values[static_cast<size_t>(i * out + o)];
  NoGradGuard no_grad;
  lin->weight.copy_(Tensor::from_vector(wv, {out, in}));
  if (b != nullptr) lin->bias.copy_(Tensor::from_vector(b->values, {out}));
  model_->push_back(lin);
  features_ = out;
}

void Importer::gemm(const onnx::NodeProto& n) {
  check_chain(n, 3);
  if (float_attr(n, "alpha", 1.0f) != 1.0f || float_attr(n, "beta", 1.0f) != 1.0f)
    fail(n, "alpha and beta must be 1 (a Linear layer), got {} and {}", float_attr(n, "alpha", 1.0f),
         float_attr(n, "beta", 1.0f));
  if (int_attr(n, "transA").value_or(0) != 0) fail(n, "transA must be 0");
  const int64_t trans_b = int_attr(n, "transB").value_or(0);
  if (trans_b != 0 && trans_b != 1) fail(n, "transB must be 0 or 1, got {}", trans_b);
  const FloatTensor w = initializer(n, 1);
  std::optional<FloatTensor> b;
  if (n.input_size() > 2 && !n.input(2).empty()) b = initializer(n, 2);
  add_linear(n, w, trans_b == 1, b ? &*b : nullptr);
}

int Importer::matmul(int index) {
  const onnx::NodeProto& n = graph_.node(index);
  check_chain(n, 2);
  const FloatTensor w = initializer(n, 1);
  // A bias: the next node adds an initializer to this one's output (in either order).
  std::optional<FloatTensor> b;
  if (index + 1 < graph_.node_size()) {
    const onnx::NodeProto& a = graph_.node(index + 1);
    if (a.op_type() == "Add" && a.input_size() == 2 && a.output_size() >= 1 &&
        (a.input(0) == n.output(0) || a.input(1) == n.output(0))) {
      const std::string& other = a.input(0) == n.output(0) ? a.input(1) : a.input(0);
      const auto it = constants_.find(other);
      if (it != constants_.end()) b = read_tensor(*it->second, other);
    }
  }
  add_linear(n, w, false, b ? &*b : nullptr);
  if (!b) return 1;
  x_ = graph_.node(index + 1).output(0);
  return 2;
}

// ONNX ops without parameters and the module each becomes (none: dropped at inference).
struct ImportRow {
  const char* op;
  nn::ModulePtr (*make)();
};
const ImportRow kImported[] = {
    {"Relu", [] { return nn::ModulePtr(std::make_shared<nn::ReLU>()); }},
    {"Tanh", [] { return nn::ModulePtr(std::make_shared<nn::Tanh>()); }},
    {"Sigmoid", [] { return nn::ModulePtr(std::make_shared<nn::Sigmoid>()); }},
    {"Identity", [] { return nn::ModulePtr(std::make_shared<nn::Identity>()); }},
    {"Dropout", [] { return nn::ModulePtr(); }},
};

std::shared_ptr<nn::Sequential> Importer::run() {
  for (const onnx::TensorProto& t : graph_.initializer()) constants_[t.name()] = &t;
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const onnx::ValueInfoProto& v : graph_.input())
    if (!constants_.count(v.name())) inputs.push_back(&v);
  TINYML_CHECK(
      inputs.size() == 1 && graph_.output_size() == 1,
      "{}: the graph has {} inputs (besides initializers) and {} outputs; import_onnx reads models of one "
      "input and one output",
      who_, inputs.size(), graph_.output_size());
  const onnx::TypeProto& type = inputs[0]->type();
  TINYML_CHECK(type.has_tensor_type() && type.tensor_type().elem_type() == onnx::TensorProto_DataType_FLOAT,
               "{}: the input '{}' is not a FLOAT tensor", who_, inputs[0]->name());
  x_ = inputs[0]->name();
  const onnx::TensorShapeProto& shape = type.tensor_type().shape();
  if (shape.dim_size() == 2 && shape.dim(1).has_dim_value()) features_ = shape.dim(1).dim_value();
  int linears = 0;
  for (int i = 0; i < graph_.node_size(); ++i) {
    const onnx::NodeProto& n = graph_.node(i);
    if (n.output_size() < 1) fail(n, "it has no output");
    const std::string& op = n.op_type();
    if (op == "Constant") {
      if (n.attribute_size() != 1 || n.attribute(0).name() != "value" || !n.attribute(0).has_t())
        fail(n, "only a Constant holding a tensor ('value') is supported");
      constants_[n.output(0)] = &n.attribute(0).t();
      continue;
    }
    if (op == "Gemm" || op == "MatMul") {
      const int used = op == "Gemm" ? (gemm(n), 1) : matmul(i);
      x_ = graph_.node(i + used - 1).output(0);
      i += used - 1;
      ++linears;
      continue;
    }
    if (op == "Flatten") {
      check_chain(n, 1);
      if (int_attr(n, "axis").value_or(1) != 1)
        fail(n, "only axis = 1 is supported (tinyml's Flatten(1, -1))");
      model_->push_back(std::make_shared<nn::Flatten>());
      x_ = n.output(0);
      continue;
    }
    bool known = false;
    for (const ImportRow& row : kImported)
      if (op == row.op) {
        check_chain(n, 1);
        if (nn::ModulePtr m = row.make()) model_->push_back(m);
        x_ = n.output(0);
        known = true;
      }
    if (!known)
      fail(n,
           "op type '{}' is not supported (supported: Gemm, MatMul, Add after MatMul, Relu, Tanh, Sigmoid, "
           "Flatten, Identity, Dropout, Constant)",
           op);
  }
  TINYML_CHECK(linears > 0, "{}: the graph has no Gemm or MatMul layer", who_);
  TINYML_CHECK(x_ == graph_.output(0).name(),
               "{}: the graph's output '{}' is not the last layer's output '{}'", who_,
               graph_.output(0).name(), x_);
  model_->eval();
  return model_;
}

}  // namespace

std::shared_ptr<nn::Sequential> import_onnx_bytes(std::span<const uint8_t> bytes, const std::string& who) {
  TINYML_CHECK(bytes.size() <= kMaxOnnxFileBytes &&
                   bytes.size() <= static_cast<size_t>(std::numeric_limits<int>::max()),
               "{}: {} bytes is more than the {} an ONNX model may have here", who, bytes.size(),
               kMaxOnnxFileBytes);
  onnx::ModelProto model;
  TINYML_CHECK(model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())),
               "{}: not an ONNX model (the {} bytes do not parse as an ONNX ModelProto)", who, bytes.size());
  TINYML_CHECK(model.has_graph() && model.graph().node_size() > 0, "{}: the ONNX model has no graph nodes",
               who);
  return Importer(model.graph(), who).run();
}

std::shared_ptr<nn::Sequential> import_onnx(const std::string& path) {
  const std::string who = fmt::format("import_onnx('{}')", path);
  const std::vector<uint8_t> bytes = read_file_bytes(path, who, kMaxOnnxFileBytes);
  return import_onnx_bytes(bytes, who);
}

}  // namespace tinyml::io

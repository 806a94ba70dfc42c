#include "tinyml/io/onnx_graph.hpp"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <bit>
#include <exception>

#include "tinyml/core/error.hpp"

namespace tinyml::io::onnx_graph {

static_assert(std::endian::native == std::endian::little, "raw_data is little-endian");

std::string GraphBuilder::fresh(const std::string& stem) {
  std::string name = stem;
  for (int i = 1; std::find(used_.begin(), used_.end(), name) != used_.end(); ++i)
    name = fmt::format("{}_{}", stem, i);
  used_.push_back(name);
  return name;
}

std::string GraphBuilder::tensor(const std::string& stem, int dtype, const std::vector<int64_t>& shape,
                                 const void* data, size_t bytes) {
  onnx::TensorProto* t = graph_->add_initializer();
  t->set_name(fresh(stem));
  t->set_data_type(dtype);
  for (int64_t d : shape) t->add_dims(d);
  t->set_raw_data(data, bytes);
  return t->name();
}

std::string GraphBuilder::floats(const std::string& stem, const std::vector<int64_t>& shape,
                                 const std::vector<float>& v) {
  return tensor(stem, onnx::TensorProto_DataType_FLOAT, shape, v.data(), v.size() * sizeof(float));
}

std::string GraphBuilder::int32s(const std::string& stem, const std::vector<int64_t>& shape,
                                 const std::vector<int32_t>& v) {
  return tensor(stem, onnx::TensorProto_DataType_INT32, shape, v.data(), v.size() * sizeof(int32_t));
}

std::string GraphBuilder::bytes8(const std::string& stem, const std::vector<int64_t>& shape,
                                 const std::vector<int32_t>& v, bool is_signed) {
  std::vector<uint8_t> b(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    TINYML_CHECK(is_signed ? (v[i] >= -128 && v[i] <= 127) : (v[i] >= 0 && v[i] <= 255),
                 "export_onnx: value {} of '{}' does not fit in {}", v[i], stem,
                 is_signed ? "int8" : "uint8");
    b[i] = static_cast<uint8_t>(v[i]);  // two's complement bit pattern for int8
  }
  return tensor(stem, is_signed ? onnx::TensorProto_DataType_INT8 : onnx::TensorProto_DataType_UINT8, shape,
                b.data(), b.size());
}

onnx::NodeProto* GraphBuilder::node(const std::string& op, const std::vector<std::string>& inputs,
                                    const std::vector<std::string>& out_stems) {
  onnx::NodeProto* n = graph_->add_node();
  n->set_op_type(op);
  n->set_name(fresh(fmt::format("{}_{}", op, graph_->node_size() - 1)));
  for (const std::string& in : inputs) n->add_input(in);
  for (const std::string& out : out_stems) n->add_output(fresh(out));
  return n;
}

std::string GraphBuilder::op(const std::string& op, const std::vector<std::string>& inputs,
                             const std::string& out_stem) {
  return node(op, inputs, {out_stem})->output(0);
}

void set_int_attr(onnx::NodeProto* node, const std::string& name, int64_t value) {
  onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(value);
}

int max_opset() {
  return onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map().at(onnx::ONNX_DOMAIN).second;
}

void check_model(const onnx::ModelProto& model, const std::string& who) {
  try {
    onnx::checker::check_model(model);
    onnx::ModelProto copy = model;
    onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*strict=*/1));
  } catch (const std::exception& e) {
    TINYML_CHECK(false, "{}: the ONNX checker rejects the model: {}", who, e.what());
  }
}

std::string dtype_name(int dtype) {
  if (!onnx::TensorProto_DataType_IsValid(dtype)) return fmt::format("unknown type {}", dtype);
  return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(dtype));
}

}  // namespace tinyml::io::onnx_graph

// Building, checking and reading ONNX graphs with the protobuf classes of libonnx (used only by onnx_*.cpp).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tinyml::io::onnx_graph {

// Adds initializers and nodes to a GraphProto, each under a fresh name made from a readable stem
// ("layer0.weight", "layer0.weight_1", ...), so no two values of the graph share a name.
class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* graph) : graph_(graph) {}
  // A unique value name starting with `stem`.
  std::string fresh(const std::string& stem);
  // An initializer of `dtype` (onnx::TensorProto_DataType) and `shape` from its little-endian
  // bytes; the values are stored as raw_data. Returns its name.
  std::string tensor(const std::string& stem, int dtype, const std::vector<int64_t>& shape, const void* data,
                     size_t bytes);
  std::string floats(const std::string& stem, const std::vector<int64_t>& shape, const std::vector<float>& v);
  std::string int32s(const std::string& stem, const std::vector<int64_t>& shape,
                     const std::vector<int32_t>& v);
  // Integers known to fit in 8 bits, stored as INT8 (is_signed) or UINT8.
  std::string bytes8(const std::string& stem, const std::vector<int64_t>& shape,
                     const std::vector<int32_t>& v, bool is_signed);
  // Appends a node; returns it so attributes can be added. Its outputs are fresh names from
  // `out_stems` (read them from node->output(i)).
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& out_stems);
  // The same with one output, whose name is returned.
  std::string op(const std::string& op, const std::vector<std::string>& inputs, const std::string& out_stem);

 private:
  onnx::GraphProto* graph_;
  std::vector<std::string> used_;
};

void set_int_attr(onnx::NodeProto* node, const std::string& name, int64_t value);

// The highest version of the default ONNX operator set that the linked libonnx knows.
int max_opset();

// onnx::checker::check_model plus strict shape and type inference on a copy; a failure throws
// tinyml::Error naming `who` and the checker's message.
void check_model(const onnx::ModelProto& model, const std::string& who);

// "FLOAT", "INT8", ... for messages.
std::string dtype_name(int dtype);

}  // namespace tinyml::io::onnx_graph

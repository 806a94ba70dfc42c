// ONNX import: an MLP graph (as PyTorch's torch.onnx.export writes nn.Sequential) as a tinyml Sequential.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "tinyml/nn/sequential.hpp"

namespace tinyml::io {

// The largest ONNX file import_onnx reads (bigger files are refused before they are read whole).
inline constexpr size_t kMaxOnnxFileBytes = size_t{1} << 30;

// Rebuilds the chain of layers in an ONNX model of one float input and one output, node by node:
//   Gemm (alpha = beta = 1, transA = 0, transB 0 or 1; weight and bias initializers) → Linear
//   MatMul (weight initializer), with a following Add of a bias initializer → Linear
//   Relu, Tanh, Sigmoid → ReLU, Tanh, Sigmoid;  Flatten(axis = 1) → Flatten;  Identity → Identity
//   Dropout → nothing (inference)
// Constant nodes holding a tensor count as initializers. Weights must be FLOAT, stored in the file
// (raw_data or float_data; external data is refused). Each node must take the previous node's
// output; the last node's output must be the graph's output. The model comes back in eval mode,
// its children named "0", "1", ... Any other op, attribute value or graph shape throws
// tinyml::Error naming the node and its op type; a malformed file throws naming the file.
std::shared_ptr<nn::Sequential> import_onnx(const std::string& path);
// The same on a file's bytes in memory (tests and fuzzing); errors name `who`.
std::shared_ptr<nn::Sequential> import_onnx_bytes(std::span<const uint8_t> bytes,
                                                  const std::string& who = "import_onnx_bytes");

}  // namespace tinyml::io

// The pieces of ONNX export shared by its float and quantized halves (used only by onnx_export*.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinyml/io/onnx_export.hpp"
#include "tinyml/io/onnx_graph.hpp"
#include "tinyml/quant/quantized_linear.hpp"

namespace tinyml::io::onnx_export_detail {

// A row-major (rows, cols) matrix transposed to (cols, rows).
template <class T>
std::vector<T> transposed(const std::vector<T>& m, int64_t rows, int64_t cols) {
  std::vector<T> t(m.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      t[static_cast<size_t>(c * rows + r)] = m[static_cast<size_t>(r * cols + c)];
  return t;
}

// y = x·Wᵀ + b from value names: `w` is (out, in) for Gemm (transB = 1) or (in, out) for MatMul;
// `b` (out) may be empty (no bias). Returns the output's name.
std::string linear_nodes(onnx_graph::GraphBuilder& g, const std::string& x, const std::string& w,
                         const std::string& b, OnnxLinearOp op, const std::string& stem);

// A QuantizedLinear named `stem` applied to `x` (see export_onnx_bytes for the graph of each mode).
// Throws tinyml::Error naming `stem` for a layer ONNX cannot express exactly.
std::string quantized_linear_nodes(onnx_graph::GraphBuilder& g, const std::string& x,
                                   const quant::QuantizedLinear& layer, OnnxLinearOp op,
                                   const std::string& stem);

}  // namespace tinyml::io::onnx_export_detail

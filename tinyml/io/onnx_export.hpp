// ONNX export: a tinyml Sequential (float, or quantized by quant::quantize_model) as an ONNX graph.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinyml/nn/sequential.hpp"

namespace tinyml::io {

// How a float (or weight-dequantized) Linear is written: one Gemm (transB = 1, the weight kept
// (out, in)), or MatMul + Add with the weight stored transposed (in, out).
enum class OnnxLinearOp { Gemm, MatMul };

struct OnnxExportOptions {
  // Default ONNX operator set version; 0 means the highest the linked libonnx knows (17 for ONNX
  // 1.12). Versions below 13 (per-channel DequantizeLinear) or above that highest one are refused.
  int opset = 0;
  OnnxLinearOp linear = OnnxLinearOp::Gemm;
  // The input's shape without the batch dimension; empty means (in_features of the first Linear).
  // A model that starts with Flatten takes e.g. {1, 28, 28}.
  std::vector<int64_t> input_shape;
};

// The model as a serialized ModelProto, checked by onnx::checker and by ONNX shape inference
// before it is returned. Input "input" of shape (N, input_shape...), output "output" (N, classes),
// N a symbolic dimension. Layers, in order (nested Sequentials are walked):
//   Linear            Gemm, or MatMul + Add (options.linear)
//   ReLU/Tanh/Sigmoid Relu/Tanh/Sigmoid;  Identity: Identity;  Flatten(1, -1): Flatten(axis=1)
//   Dropout           nothing (inference)
//   QuantizedLinear   weight-only: DequantizeLinear(weight) feeding the Gemm/MatMul;
//                     dynamic: DynamicQuantizeLinear + MatMulInteger + Cast + Mul(s_x·s_w) + Add(bias),
//                       as ONNX Runtime's dynamic quantization writes it;
//                     static: QDQ — QuantizeLinear/DequantizeLinear of the input with the calibrated
//                       qparams, DequantizeLinear of the weight (per channel: axis), of the int32 bias
//                       (scale s_x·s_w), then the Gemm/MatMul; a fused ReLU becomes a Relu node.
// Weights of 2..7 bits are written as INT8/UINT8 values inside their narrower range (opsets up to
// 17 have no 4-bit type): one byte per value, twice the bytes of tinyml's packed int4.
// Anything else (another module type, Flatten over other dims, static activations of other than
// 8 bits, a model without a Linear) throws tinyml::Error naming the layer.
std::string export_onnx_bytes(const nn::Sequential& model, const OnnxExportOptions& options = {});

// export_onnx_bytes written atomically to `path` (see write_file_atomic): on error nothing is
// written and an existing file is untouched.
void export_onnx(const nn::Sequential& model, const std::string& path, const OnnxExportOptions& options = {});

}  // namespace tinyml::io

// ONNX export of QuantizedLinear layers: weight-only and static as QDQ, dynamic as MatMulInteger.
#include <string>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/io/onnx_export_detail.hpp"

namespace tinyml::io {

namespace {

using onnx_graph::GraphBuilder;
using quant::QParams;

// The weight's integers as an initializer ((out, in) for Gemm, (in, out) for MatMul) with its
// scale and zero point, one per tensor or one per channel along the axis it ends up on.
struct WeightInit {
  std::string q, scale, zero_point;
  int64_t axis = -1;  // -1: per tensor
};

WeightInit weight_init(GraphBuilder& g, const quant::QTensor& w, OnnxLinearOp op, const std::string& stem) {
  const int64_t out = w.size(0), in = w.size(1);
  const QParams& qp = w.qparams();
  const bool is_signed = qp.spec.signed_range();
  WeightInit r;
  std::vector<int32_t> values = w.values();
  if (op == OnnxLinearOp::Gemm) {
    r.q = g.bytes8(stem + ".weight_q", {out, in}, values, is_signed);
  } else {
    r.q =
        g.bytes8(stem + ".weight_q_t", {in, out}, onnx_export_detail::transposed(values, out, in), is_signed);
  }
  std::vector<int64_t> qshape;
  if (qp.per_channel()) {
    const int64_t axis = quant::channel_layout(w.shape(), qp.spec, "export_onnx").axis;
    r.axis = op == OnnxLinearOp::Gemm ? axis : 1 - axis;
    qshape = {static_cast<int64_t>(qp.scale.size())};
  }
  r.scale = g.floats(stem + ".weight_scale", qshape, qp.scale);
  r.zero_point = g.bytes8(stem + ".weight_zero_point", qshape, qp.zero_point, is_signed);
  return r;
}

onnx::NodeProto* dequantize(GraphBuilder& g, const std::vector<std::string>& in, int64_t axis,
                            const std::string& stem) {
  onnx::NodeProto* n = g.node("DequantizeLinear", in, {stem});
  if (axis >= 0) onnx_graph::set_int_attr(n, "axis", axis);
  return n;
}

std::string weight_only(GraphBuilder& g, const std::string& x, const quant::QuantizedLinear& l,
                        OnnxLinearOp op, const std::string& stem) {
  const WeightInit w = weight_init(g, l.unpacked_weight(), op, stem);
  const std::string wf = dequantize(g, {w.q, w.scale, w.zero_point}, w.axis, stem + ".weight")->output(0);
  const std::string b =
      l.has_bias() ? g.floats(stem + ".bias", {l.out_features()}, l.bias().detach().to_vector()) : "";
  return onnx_export_detail::linear_nodes(g, x, wf, b, op, stem);
}

// As ONNX Runtime's quantize_dynamic writes a MatMul: the uint8 input and its qparams from
// DynamicQuantizeLinear (min/max widened to 0, scale (max − min)/255: the formula of tinyml's
// dynamic mode), MatMulInteger with both zero points, then float: acc · (s_x · s_w) + b.
std::string dynamic(GraphBuilder& g, const std::string& x, const quant::QuantizedLinear& l,
                    const std::string& stem) {
  const WeightInit w = weight_init(g, l.unpacked_weight(), OnnxLinearOp::MatMul, stem);
  onnx::NodeProto* dq =
      g.node("DynamicQuantizeLinear", {x}, {stem + ".x_q", stem + ".x_scale", stem + ".x_zp"});
  const std::string xq = dq->output(0), xs = dq->output(1), xz = dq->output(2);
  const std::string acc = g.op("MatMulInteger", {xq, w.q, xz, w.zero_point}, stem + ".acc");
  onnx::NodeProto* cast = g.node("Cast", {acc}, {stem + ".acc_f"});
  onnx_graph::set_int_attr(cast, "to", onnx::TensorProto_DataType_FLOAT);
  const std::string scale = g.op("Mul", {xs, w.scale}, stem + ".scale");
  const std::string y = g.op("Mul", {cast->output(0), scale}, stem + ".scaled");
  if (!l.has_bias()) return y;
  const std::string b = g.floats(stem + ".bias", {l.out_features()}, l.bias().detach().to_vector());
  return g.op("Add", {y, b}, stem + ".out");
}

// QDQ: the input through QuantizeLinear/DequantizeLinear with the calibrated qparams, the weight and
// the int32 bias (scale s_x · s_w[j], zero point 0) through DequantizeLinear, then the float op.
std::string static_qdq(GraphBuilder& g, const std::string& x, const quant::QuantizedLinear& l,
                       OnnxLinearOp op, const std::string& stem) {
  const QParams& iq = *l.input_qparams();
  TINYML_CHECK(iq.spec.bits == 8,
               "export_onnx: layer '{}' quantizes its input to {} bits ({}); ONNX QuantizeLinear saturates "
               "only to the 8-bit range, so the layer cannot be exported exactly",
               stem, iq.spec.bits, iq.spec.to_string());
  const bool x_signed = iq.spec.signed_range();
  const std::string xs = g.floats(stem + ".input_scale", {}, iq.scale);
  const std::string xz = g.bytes8(stem + ".input_zero_point", {}, iq.zero_point, x_signed);
  const std::string xq = g.op("QuantizeLinear", {x, xs, xz}, stem + ".input_q");
  const std::string xf = dequantize(g, {xq, xs, xz}, -1, stem + ".input_dq")->output(0);
  const WeightInit w = weight_init(g, l.unpacked_weight(), op, stem);
  const std::string wf = dequantize(g, {w.q, w.scale, w.zero_point}, w.axis, stem + ".weight")->output(0);
  std::string b;
  if (l.has_bias()) {
    const std::vector<float>& sw = l.weight_qparams().scale;
    const int64_t out = l.out_features();
    std::vector<float> bs(static_cast<size_t>(out));
    for (size_t j = 0; j < bs.size(); ++j) bs[j] = iq.scale[0] * sw[sw.size() == 1 ? 0 : j];  // as tinyml
    const std::string bq = g.int32s(stem + ".bias_q", {out}, l.bias_int32());
    const std::string bsn = g.floats(stem + ".bias_scale", {out}, bs);
    b = dequantize(g, {bq, bsn}, 0, stem + ".bias")->output(0);
  }
  return onnx_export_detail::linear_nodes(g, xf, wf, b, op, stem);
}

}  // namespace

std::string onnx_export_detail::quantized_linear_nodes(GraphBuilder& g, const std::string& x,
                                                       const quant::QuantizedLinear& layer, OnnxLinearOp op,
                                                       const std::string& stem) {
  std::string y;
  switch (layer.mode()) {
    case quant::QuantMode::WeightOnly:
      y = weight_only(g, x, layer, op, stem);
      break;
    case quant::QuantMode::Dynamic:
      y = dynamic(g, x, layer, stem);
      break;
    case quant::QuantMode::Static:
      y = static_qdq(g, x, layer, op, stem);
      break;
  }
  return layer.fused_relu() ? g.op("Relu", {y}, stem + ".Relu") : y;
}

}  // namespace tinyml::io

// ONNX export and import: float round trips, the checker on every exported form, refusals, malformed files.
#include <gtest/gtest.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/io/onnx_export.hpp"
#include "tinyml/io/onnx_import.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/dropout.hpp"
#include "tinyml/nn/flatten.hpp"
#include "tinyml/nn/identity.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/sequential.hpp"
#include "tinyml/quant/quantize_model.hpp"

namespace {

namespace fs = std::filesystem;
namespace io = tinyml::io;
using namespace tinyml;  // Tensor, Generator, Error, NoGradGuard
using namespace tinyml::nn;
using namespace tinyml::quant;

std::shared_ptr<Sequential> float_mlp(Generator& gen) {
  auto m = std::make_shared<Sequential>(
      std::make_shared<Linear>(6, 8, true, gen), std::make_shared<ReLU>(), std::make_shared<Dropout>(0.5),
      std::make_shared<Linear>(8, 5, true, gen), std::make_shared<Tanh>(), std::make_shared<Identity>(),
      std::make_shared<Linear>(5, 4, false, gen), std::make_shared<Sigmoid>(),
      std::make_shared<Linear>(4, 3, true, gen));
  m->eval();
  return m;
}

Tensor infer(Module& m, const Tensor& x) {
  NoGradGuard no_grad;
  return m(x);
}

// Outputs agree within 1e-6 relative (the same float weights through the same GEMM; only the order
// of a MatMul's transposed weight may change the rounding).
void expect_close(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  const std::vector<float> va = a.to_vector(), vb = b.to_vector();
  for (size_t i = 0; i < va.size(); ++i) EXPECT_NEAR(va[i], vb[i], 1e-6f * (1.0f + std::fabs(va[i]))) << i;
}

onnx::ModelProto parse(const std::string& bytes) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  return m;
}

std::multiset<std::string> op_types(const onnx::ModelProto& m) {
  std::multiset<std::string> ops;
  for (const auto& n : m.graph().node()) ops.insert(n.op_type());
  return ops;
}

std::vector<uint8_t> as_bytes(const std::string& s) { return {s.begin(), s.end()}; }

TEST(OnnxExport, FloatGemmAndMatMulRoundTripThroughImport) {
  Generator gen(1);
  auto model = float_mlp(gen);
  const Tensor x = Tensor::randn({7, 6}, gen);
  for (io::OnnxLinearOp op : {io::OnnxLinearOp::Gemm, io::OnnxLinearOp::MatMul}) {
    const std::string bytes = io::export_onnx_bytes(*model, {.opset = 0, .linear = op, .input_shape = {}});
    const onnx::ModelProto proto = parse(bytes);
    EXPECT_NO_THROW(onnx::checker::check_model(proto));
    const auto ops = op_types(proto);
    EXPECT_EQ(ops.count(op == io::OnnxLinearOp::Gemm ? "Gemm" : "MatMul"), 4u);
    EXPECT_EQ(ops.count("Dropout"), 0u);  // removed at inference
    EXPECT_EQ(proto.graph().input(0).type().tensor_type().shape().dim(0).dim_param(), "N");
    auto back = io::import_onnx_bytes(as_bytes(bytes));
    EXPECT_EQ(back->size(), model->size() - 1);  // without the Dropout
    expect_close(infer(*model, x), infer(*back, x));
  }
}

TEST(OnnxExport, FlattenFirstModelTakesTheGivenInputShape) {
  Generator gen(2);
  auto model =
      std::make_shared<Sequential>(std::make_shared<Flatten>(), std::make_shared<Linear>(12, 3, true, gen));
  const std::string bytes = io::export_onnx_bytes(*model, {.input_shape = {3, 4}});
  const onnx::ModelProto proto = parse(bytes);
  EXPECT_EQ(proto.graph().input(0).type().tensor_type().shape().dim_size(), 3);
  auto back = io::import_onnx_bytes(as_bytes(bytes));
  const Tensor x = Tensor::randn({2, 3, 4}, gen);
  expect_close(infer(*model, x), infer(*back, x));
}

// Each quantized form: the checker (run inside export, and again here) accepts it, and the graph
// holds the ops the format promises.
struct QuantCase {
  QuantMode mode;
  int bits;
  std::vector<std::string> ops;
};

TEST(OnnxExport, QuantizedFormsPassTheCheckerWithTheirOps) {
  const std::vector<QuantCase> cases = {
      {QuantMode::WeightOnly, 8, {"DequantizeLinear", "Gemm"}},
      {QuantMode::Dynamic, 8, {"DynamicQuantizeLinear", "MatMulInteger", "Cast", "Mul", "Add"}},
      {QuantMode::Static, 8, {"QuantizeLinear", "DequantizeLinear", "Gemm", "Relu"}},
      {QuantMode::Static, 4, {"QuantizeLinear", "DequantizeLinear", "Gemm"}},
      {QuantMode::Dynamic, 4, {"DynamicQuantizeLinear", "MatMulInteger"}},
  };
  for (const QuantCase& c : cases) {
    Generator gen(3);
    auto model = float_mlp(gen);
    std::vector<Tensor> calib{Tensor::randn({32, 6}, gen)};
    QuantConfig cfg;
    cfg.mode = c.mode;
    cfg.weight_spec.bits = c.bits;
    cfg.observer = "minmax";
    quantize_model(*model, cfg, calib);
    const std::string bytes = io::export_onnx_bytes(*model);
    const onnx::ModelProto proto = parse(bytes);
    EXPECT_NO_THROW(onnx::checker::check_model(proto));
    const auto ops = op_types(proto);
    for (const std::string& op : c.ops) EXPECT_GT(ops.count(op), 0u) << to_string(c.mode) << " " << op;
    // Weights stay INT8 values inside the narrower range (no 4-bit type before opset 21).
    for (const auto& t : proto.graph().initializer())
      if (t.name().find("weight_q") != std::string::npos) {
        EXPECT_EQ(t.data_type(), onnx::TensorProto_DataType_INT8);
        for (char b : t.raw_data())
          EXPECT_LE(std::abs(static_cast<int>(static_cast<int8_t>(b))), 1 << (c.bits - 1));
      }
    // A quantized graph is not a float MLP: import names the first node it cannot read.
    try {
      io::import_onnx_bytes(as_bytes(bytes));
      ADD_FAILURE() << "quantized graph imported";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("is not supported"), std::string::npos) << e.what();
    }
  }
}

TEST(OnnxExport, StaticBiasIsTheInt32BiasWithScaleSxTimesSw) {
  Generator gen(4);
  auto model = std::make_shared<Sequential>(std::make_shared<Linear>(4, 3, true, gen));
  model->eval();
  QuantConfig cfg;
  cfg.mode = QuantMode::Static;
  cfg.observer = "minmax";
  quantize_model(*model, cfg, {Tensor::randn({16, 4}, gen)});
  const auto q = model->at<QuantizedLinear>(0);
  const onnx::ModelProto proto = parse(io::export_onnx_bytes(*model));
  for (const auto& t : proto.graph().initializer()) {
    if (t.name() == "0.bias_q") {
      ASSERT_EQ(t.data_type(), onnx::TensorProto_DataType_INT32);
      std::vector<int32_t> b(3);
      std::memcpy(b.data(), t.raw_data().data(), 12);
      EXPECT_EQ(b, q->bias_int32());
    }
    if (t.name() == "0.bias_scale") {
      std::vector<float> s(3);
      std::memcpy(s.data(), t.raw_data().data(), 12);
      for (size_t j = 0; j < 3; ++j)
        EXPECT_EQ(s[j], q->input_qparams()->scale[0] * q->weight().qparams().scale[j]);
    }
  }
}

void expect_refused(const Sequential& m, const io::OnnxExportOptions& o, const std::string& words) {
  try {
    io::export_onnx_bytes(m, o);
    ADD_FAILURE() << "exported; expected an error saying: " << words;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(OnnxExport, RefusesWhatOnnxCannotExpress) {
  Generator gen(5);
  auto lin = [&] { return std::make_shared<Linear>(4, 3, true, gen); };
  expect_refused(Sequential(lin(), std::make_shared<Softmax>(1)), {}, "layer '1' is a Softmax");
  expect_refused(Sequential(std::make_shared<Flatten>(0, -1), lin()), {}, "Flatten(0, -1)");
  expect_refused(Sequential(std::make_shared<ReLU>()), {}, "no Linear");
  expect_refused(Sequential(lin(), std::make_shared<Linear>(5, 2, true, gen)), {}, "takes 5 features");
  expect_refused(Sequential(lin()), {.opset = 12, .linear = io::OnnxLinearOp::Gemm, .input_shape = {}},
                 "opset 12");
  expect_refused(Sequential(lin()), {.opset = 99, .linear = io::OnnxLinearOp::Gemm, .input_shape = {}},
                 "opset 99");
  expect_refused(Sequential(lin()), {.input_shape = {0}}, "sizes > 0");
  // Static activations of 4 bits: QuantizeLinear would saturate to 0..255, not 0..15.
  Sequential m(lin());
  QuantConfig cfg;
  cfg.mode = QuantMode::Static;
  cfg.observer = "minmax";
  cfg.activation_spec.bits = 4;
  quantize_model(m, cfg, {Tensor::randn({8, 4}, gen)});
  expect_refused(m, {}, "quantizes its input to 4 bits");
}

class OnnxFile : public tinyml_test::TempDirTest {};

TEST_F(OnnxFile, ExportIsAtomicAndARefusalLeavesTheOldFile) {
  Generator gen(6);
  auto model = float_mlp(gen);
  const std::string p = path("m.onnx");
  io::export_onnx(*model, p);
  const auto size = fs::file_size(p);
  EXPECT_GT(size, 0u);
  EXPECT_THROW(io::export_onnx(Sequential(std::make_shared<Softmax>(1)), p), Error);
  EXPECT_EQ(fs::file_size(p), size);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);  // no temporary left
  EXPECT_THROW(io::export_onnx(*model, path("missing/m.onnx")), Error);
  auto back = io::import_onnx(p);
  const Tensor x = Tensor::randn({3, 6}, gen);
  expect_close(infer(*model, x), infer(*back, x));
}

TEST_F(OnnxFile, MalformedFilesGetClearErrors) {
  EXPECT_THROW(io::import_onnx(path("none.onnx")), Error);
  const std::vector<uint8_t> garbage = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x34};
  EXPECT_THROW(io::import_onnx_bytes(garbage), Error);
  EXPECT_THROW(io::import_onnx_bytes({}), Error);  // parses as an empty model: no graph
  Generator gen(7);
  const std::string bytes = io::export_onnx_bytes(*float_mlp(gen));
  // Every truncation either parses into a model that is refused or fails to parse: never a crash.
  for (size_t n = 0; n < bytes.size(); n += 7) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(io::import_onnx_bytes(cut), Error) << n;
  }
}

// A graph the exporter never writes, built by hand: one node on input "x".
onnx::ModelProto one_node(const std::string& op) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  auto* in = g->add_input();
  in->set_name("x");
  in->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  g->add_output()->set_name("y");
  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto_DataType_FLOAT);
  w->add_dims(2);
  w->add_dims(2);
  for (float v : {1.0f, 2.0f, 3.0f, 4.0f}) w->add_float_data(v);
  auto* n = g->add_node();
  n->set_name("node0");
  n->set_op_type(op);
  n->add_input("x");
  n->add_input("w");
  n->add_output("y");
  return m;
}

std::string import_error(const onnx::ModelProto& m) {
  try {
    io::import_onnx_bytes(as_bytes(m.SerializeAsString()));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(OnnxImport, UnsupportedGraphsNameTheNodeAndOp) {
  EXPECT_NE(import_error(one_node("Conv")).find("node 'node0' (Conv): op type 'Conv' is not supported"),
            std::string::npos);
  onnx::ModelProto m = one_node("MatMul");
  EXPECT_EQ(import_error(m), "");  // the valid one: a 2 → 2 MatMul without bias
  m.mutable_graph()->mutable_initializer(0)->set_data_type(onnx::TensorProto_DataType_DOUBLE);
  EXPECT_NE(import_error(m).find("FLOAT weights only"), std::string::npos);
  m = one_node("MatMul");
  m.mutable_graph()->mutable_initializer(0)->add_dims(1000000);  // dims promise more than the data
  EXPECT_NE(import_error(m).find("expected"), std::string::npos);
  m = one_node("MatMul");
  m.mutable_graph()->mutable_initializer(0)->set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
  EXPECT_NE(import_error(m).find("external"), std::string::npos);
  m = one_node("Gemm");
  auto* a = m.mutable_graph()->mutable_node(0)->add_attribute();
  a->set_name("alpha");
  a->set_type(onnx::AttributeProto_AttributeType_FLOAT);
  a->set_f(2.0f);
  EXPECT_NE(import_error(m).find("alpha and beta must be 1"), std::string::npos);
  m = one_node("MatMul");
  m.mutable_graph()->mutable_node(0)->set_input(0, "other");
  EXPECT_NE(import_error(m).find("only a chain"), std::string::npos);
  m = one_node("MatMul");
  m.mutable_graph()->mutable_output(0)->set_name("z");
  EXPECT_NE(import_error(m).find("graph's output 'z'"), std::string::npos);
  // A MatMul followed by an Add without an output (found by fuzz_onnx): refused, never read past the end.
  m = one_node("MatMul");
  auto* add = m.mutable_graph()->add_node();
  add->set_name("node1");
  add->set_op_type("Add");
  add->add_input("y");
  add->add_input("w");
  EXPECT_NE(import_error(m).find("node 'node1' (Add): it has no output"), std::string::npos);
}

TEST(OnnxImport, GemmWithoutTransBTakesAnInOutWeight) {
  // y = x·B + c with B = [[1, 2], [3, 4]] (in, out): for x = (1, 1), y = (4 + 0.5, 6 - 1).
  onnx::ModelProto m = one_node("Gemm");
  auto* c = m.mutable_graph()->add_initializer();
  c->set_name("c");
  c->set_data_type(onnx::TensorProto_DataType_FLOAT);
  c->add_dims(2);
  c->add_float_data(0.5f);
  c->add_float_data(-1.0f);
  m.mutable_graph()->mutable_node(0)->add_input("c");
  auto model = io::import_onnx_bytes(as_bytes(m.SerializeAsString()));
  const Tensor y = infer(*model, Tensor::from_vector({1.0f, 1.0f}, {1, 2}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{4.5f, 5.0f}));
}

}  // namespace

// Module 07 step tests: FLOPs per layer, the bytes a quantized layer would hold, the profiler's hooks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "course_test.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/quant/profile.hpp"
#include "tinyml/quant/quantize_model.hpp"
#include "tinyml/quant/quantized_linear.hpp"

using namespace tinyml;
using namespace tinyml::quant;

namespace {

std::shared_ptr<nn::Sequential> mlp(Generator& gen) {
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 3, true, gen),
                                          std::make_shared<nn::ReLU>(),
                                          std::make_shared<nn::Linear>(3, 2, false, gen));
}

}  // namespace

// ---- flops_of ----

TEST(Flops, LinearIsAMultiplyAndAnAddPerWeightPerRowPlusTheBias) {
  Generator gen(1);
  const nn::Linear with_bias(4, 3, true, gen), without(4, 3, false, gen);
  // 5 rows · (2·4·3 + 3) = 135 and 5 · 2·4·3 = 120 (by hand).
  EXPECT_EQ(flops_of(with_bias, {5, 4}, {5, 3}), 135);
  EXPECT_EQ(flops_of(without, {5, 4}, {5, 3}), 120);
  // Leading dims all count as rows: (2, 5, 4) is 10 rows.
  EXPECT_EQ(flops_of(with_bias, {2, 5, 4}, {2, 5, 3}), 270);
}

TEST(Flops, ReluIsOnePerElementAndShapeOnlyLayersNone) {
  EXPECT_EQ(flops_of(nn::ReLU(), {5, 3}, {5, 3}), 15);
  EXPECT_EQ(flops_of(nn::Identity(), {5, 3}, {5, 3}), 0);
}

// ---- quantized_bytes ----

TEST(QuantizedBytes, CountsStorageQParamsAndBiasByHand) {
  // int8: 3·4 bytes + 3·(4 + 4) qparams + 3·4 bias = 48; int4 of in = 5: rows of ceil(5/2) = 3 bytes.
  EXPECT_EQ(quantized_bytes(3, 4, 8, true), 48u);
  EXPECT_EQ(quantized_bytes(3, 4, 8, false), 36u);
  EXPECT_EQ(quantized_bytes(3, 5, 4, false), 3u * 3 + 24);
  EXPECT_EQ(quantized_bytes(3, 5, 6, false), 3u * 5 + 24);  // 5..8 bits: a byte per value
}

TEST(QuantizedBytes, MatchesWhatAQuantizedLayerReallyHolds) {
  for (const int bits : {8, 4, 3}) {
    Generator gen(2);
    nn::Sequential model(std::make_shared<nn::Linear>(7, 5, true, gen));
    QuantConfig config;
    config.mode = QuantMode::WeightOnly;
    config.weight_spec = QuantSpec{bits, Scheme::Symmetric, Granularity::PerChannel, 0, true};
    quantize_model(model, config);
    const auto* q = dynamic_cast<const QuantizedLinear*>(model.named_children()[0].second.get());
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(quantized_bytes(5, 7, bits, true), q->memory_usage().total()) << bits << " bits";
  }
}

// ---- profile ----

TEST(Profile, OneRowPerLeafLayerWithShapesParametersBytesAndFlops) {
  Generator gen(3);
  auto model = mlp(gen);
  const ModelProfile p = profile(*model, Tensor::ones({5, 4}), 2);
  ASSERT_EQ(p.layers.size(), 3u);
  EXPECT_EQ(p.layers[0].name, "0");
  EXPECT_EQ(p.layers[1].type, "ReLU");
  EXPECT_EQ(p.layers[0].input_shape, (Shape{5, 4}));
  EXPECT_EQ(p.layers[0].output_shape, (Shape{5, 3}));
  EXPECT_EQ(p.layers[2].output_shape, (Shape{5, 2}));
  EXPECT_EQ(p.layers[0].parameters, 15);       // 4·3 + 3
  EXPECT_EQ(p.layers[2].parameters, 6);        // 3·2, no bias
  EXPECT_EQ(p.layers[0].bytes, 60u);           // 15 fp32 values
  EXPECT_EQ(p.layers[0].flops, 5 * (24 + 3));  // flops_of
  EXPECT_EQ(p.layers[1].flops, 15);
  EXPECT_EQ(p.layers[1].activation_bytes, 60u);  // (5, 3) floats
  EXPECT_EQ(p.layers[0].int8_bytes, quantized_bytes(3, 4, 8, true));
  EXPECT_EQ(p.layers[1].int8_bytes, 0u);  // nothing to quantize
  EXPECT_EQ(p.bytes(), 84u);
  EXPECT_EQ(p.runs, 2);
  double sum = 0.0;
  for (const LayerProfile& l : p.layers) {
    EXPECT_GT(l.seconds, 0.0) << l.name << ": every layer ran and was timed";
    sum += l.seconds;
  }
  EXPECT_LE(sum, p.seconds * 1.01) << "the layers run inside the whole forward";
}

TEST(Profile, AQuantizedModelShowsItsRealBytesAndBits) {
  Generator gen(4);
  auto model = mlp(gen);
  QuantConfig config;
  config.mode = QuantMode::WeightOnly;
  config.weight_spec = QuantSpec{4, Scheme::Symmetric, Granularity::PerChannel, 0, true};
  quantize_model(*model, config);
  const ModelProfile p = profile(*model, Tensor::ones({2, 4}));
  ASSERT_EQ(p.layers.size(), 3u);
  EXPECT_EQ(p.layers[0].type, "QuantizedLinear");
  EXPECT_EQ(p.layers[0].bits, 4);
  EXPECT_EQ(p.layers[0].bytes, quantized_bytes(3, 4, 4, true));
  EXPECT_EQ(p.layers[0].flops, 2 * (24 + 3));
  EXPECT_EQ(p.layers[0].output_shape, (Shape{2, 3}));
}

TEST(Profile, LeavesTheModelAsItFoundIt) {
  Generator gen(5);
  auto model = mlp(gen);
  model->train();
  const Tensor x = Tensor::ones({1, 4});
  const ModelProfile p = profile(*model, x);
  EXPECT_EQ(p.layers.size(), 3u);
  EXPECT_TRUE(model->is_training()) << "the train/eval mode is restored";
  for (const auto& [name, m] : model->named_modules())
    EXPECT_EQ(m->num_forward_hooks(), 0u) << name << ": a hook was left behind";
}

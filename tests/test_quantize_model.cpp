// quantize_model: in-place replacement in nested Sequentials, skip lists, the report, MSE clipping and model
// sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/identity.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/sequential.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/quant/qtensor.hpp"
#include "tinyml/quant/quantize_model.hpp"
#include "tinyml/quant/quantized_linear.hpp"
#include "tinyml/train/mlp.hpp"

namespace {

using namespace tinyml;  // Tensor, Generator, Error, NoGradGuard
using namespace tinyml::nn;
using namespace tinyml::quant;

// 8 → 16 → (block: 16 → 16 → 4), with ReLUs between.
std::shared_ptr<Sequential> nested_model(Generator& gen) {
  auto block = std::make_shared<Sequential>();
  block->push_back(std::make_shared<Linear>(16, 16, true, gen));
  block->push_back(std::make_shared<ReLU>());
  block->push_back(std::make_shared<Linear>(16, 4, true, gen));
  auto model = std::make_shared<Sequential>();
  model->push_back(std::make_shared<Linear>(8, 16, true, gen));
  model->push_back(std::make_shared<ReLU>());
  model->push_back("block", block);
  return model;
}

using tinyml::train::make_mlp;

std::vector<std::string> layer_names(const QuantReport& r) {
  std::vector<std::string> out;
  for (const LayerReport& l : r.layers) out.push_back(l.name);
  return out;
}

template <class T>
bool is_a(const ModulePtr& m) {
  return std::dynamic_pointer_cast<T>(m) != nullptr;
}

TEST(QuantizeModel, ReplacesEveryLinearInNestedSequentials) {
  Generator gen(1);
  auto model = nested_model(gen);
  const Tensor x = Tensor::randn({32, 8}, gen);
  NoGradGuard no_grad;
  const Tensor y_float = (*model)(x);
  const QuantReport r = quantize_model(*model, QuantConfig{});
  EXPECT_EQ(layer_names(r), (std::vector<std::string>{"0", "block.0", "block.2"}));
  auto block = model->at<Sequential>(2);
  EXPECT_TRUE(is_a<QuantizedLinear>((*model)[0]));
  EXPECT_TRUE(is_a<QuantizedLinear>((*block)[0]));
  EXPECT_TRUE(is_a<QuantizedLinear>((*block)[2]));
  EXPECT_TRUE(is_a<ReLU>((*model)[1]));  // dynamic mode fuses nothing
  for (const LayerReport& l : r.layers) EXPECT_EQ(l.kind, "QuantizedLinear(dynamic)");
  // int8 all through: the outputs move by a small fraction of their spread (per-layer SNR ~48 dB,
  // i.e. ~0.4 % rms, compounding over three layers stays far below 5 %).
  const Tensor y = (*model)(x);
  const double err = (y - y_float).pow(2.0f).mean().item(), spread = y_float.pow(2.0f).mean().item();
  EXPECT_LT(std::sqrt(err / spread), 0.05);
  EXPECT_GT(err, 0.0);
}

TEST(QuantizeModel, SkipsByNameFirstLastAndContainer) {
  Generator gen(2);
  {
    auto model = nested_model(gen);
    QuantConfig c;
    c.skip = {"block.0"};
    const QuantReport r = quantize_model(*model, c);
    auto block = model->at<Sequential>(2);
    EXPECT_TRUE(is_a<Linear>((*block)[0]));
    EXPECT_TRUE(is_a<QuantizedLinear>((*block)[2]));
    EXPECT_EQ(r.layers[1].kind, "Linear (skipped)");
    EXPECT_EQ(r.layers[1].bytes_after, r.layers[1].bytes_before);
    EXPECT_TRUE(std::isnan(r.layers[1].weight_snr_db));
    EXPECT_EQ(r.layers[1].weight_spec, "fp32");
  }
  {
    auto model = nested_model(gen);
    QuantConfig c;
    c.skip = {"first", "last"};
    quantize_model(*model, c);
    auto block = model->at<Sequential>(2);
    EXPECT_TRUE(is_a<Linear>((*model)[0]));
    EXPECT_TRUE(is_a<QuantizedLinear>((*block)[0]));
    EXPECT_TRUE(is_a<Linear>((*block)[2]));
  }
  {
    auto model = nested_model(gen);
    QuantConfig c;
    c.skip = {"block"};
    quantize_model(*model, c);
    auto block = model->at<Sequential>(2);
    EXPECT_TRUE(is_a<QuantizedLinear>((*model)[0]));
    EXPECT_TRUE(is_a<Linear>((*block)[0]));
    EXPECT_TRUE(is_a<Linear>((*block)[2]));
  }
  {
    // A typo must not silently leave a layer in float, and must leave the model as it was.
    auto model = nested_model(gen);
    QuantConfig c;
    c.skip = {"blok.0"};
    try {
      quantize_model(*model, c);
      FAIL() << "an unknown skip name must throw";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("block.2"), std::string::npos) << e.what();  // lists the names
    }
    EXPECT_TRUE(is_a<Linear>((*model)[0]));
  }
}

TEST(QuantizeModel, ReportCountsBytesAndWeightSnr) {
  Generator gen(3);
  auto model = nested_model(gen);
  std::vector<std::shared_ptr<Linear>> originals{
      model->at<Linear>(0), model->at<Sequential>(2)->at<Linear>(0), model->at<Sequential>(2)->at<Linear>(2)};
  const size_t float_bytes = model_bytes(*model);
  EXPECT_EQ(float_bytes, ((8u * 16 + 16) + (16u * 16 + 16) + (16u * 4 + 4)) * 4);
  const QuantReport r = quantize_model(*model, QuantConfig{});
  EXPECT_EQ(r.bytes_before, float_bytes);
  EXPECT_EQ(r.bytes_after, model_bytes(*model));
  std::vector<std::shared_ptr<QuantizedLinear>> quantized{model->at<QuantizedLinear>(0),
                                                          model->at<Sequential>(2)->at<QuantizedLinear>(0),
                                                          model->at<Sequential>(2)->at<QuantizedLinear>(2)};
  size_t total = 0;
  for (size_t i = 0; i < 3; ++i) {
    const LayerReport& l = r.layers[i];
    const Linear& lin = *originals[i];
    EXPECT_EQ(l.in_features, lin.in_features());
    EXPECT_EQ(l.out_features, lin.out_features());
    EXPECT_EQ(l.bytes_before, static_cast<size_t>(lin.out_features() * (lin.in_features() + 1) * 4));
    EXPECT_EQ(l.bytes_after, quantized[i]->memory_usage().total());
    total += l.bytes_after;
    // The SNR, recomputed here from its definition.
    const std::vector<float> w = lin.weight.to_vector(), wh = quantized[i]->weight().dequantize().to_vector();
    double s = 0, n = 0;
    for (size_t k = 0; k < w.size(); ++k) {
      s += static_cast<double>(w[k]) * w[k];
      n += (static_cast<double>(w[k]) - wh[k]) * (static_cast<double>(w[k]) - wh[k]);
    }
    EXPECT_NEAR(l.weight_snr_db, 10 * std::log10(s / n), 1e-9);
    // Uniform weights in ±a per channel with step a/127: SNR = (a²/3)/(step²/12) = 4·127², 48.1 dB;
    // a channel whose extreme falls short of the init bound only has finer steps.
    EXPECT_GT(l.weight_snr_db, 45.0);
    EXPECT_TRUE(std::isnan(l.act_lo));  // dynamic: no calibrated range
    EXPECT_EQ(l.weight_spec, "int8 symmetric per-channel(axis=0)");
  }
  EXPECT_EQ(r.bytes_after, total);  // the model holds nothing but its three layers

  const std::string t = r.table();
  EXPECT_NE(t.find("block.2"), std::string::npos) << t;
  EXPECT_NE(t.find("total"), std::string::npos) << t;
  const nlohmann::json j = r.to_json();
  ASSERT_EQ(j["layers"].size(), 3u);
  EXPECT_EQ(j["layers"][1]["name"], "block.0");
  EXPECT_EQ(j["bytes_after"].get<size_t>(), r.bytes_after);
  EXPECT_TRUE(j["layers"][0]["act_lo"].is_null());
}

TEST(QuantizeModel, StaticCalibratesFusesReluAndNeedsBatches) {
  Generator gen(4);
  auto model = nested_model(gen);
  QuantConfig c;
  c.mode = QuantMode::Static;
  try {
    quantize_model(*model, c);
    FAIL() << "static mode without batches must throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("static mode needs calibration batches"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(is_a<Linear>((*model)[0]));  // unchanged

  std::vector<Tensor> batches;
  for (int b = 0; b < 4; ++b) batches.push_back(Tensor::randn({64, 8}, gen));
  const Tensor x = Tensor::randn({50, 8}, gen);
  NoGradGuard no_grad;
  const Tensor y_float = (*model)(x);
  const QuantReport r = quantize_model(*model, c, batches);
  // The ReLUs after "0" and "block.0" are fused and replaced; "block.2" has none after it.
  EXPECT_EQ(r.layers[0].kind, "QuantizedLinear(static+relu)");
  EXPECT_EQ(r.layers[1].kind, "QuantizedLinear(static+relu)");
  EXPECT_EQ(r.layers[2].kind, "QuantizedLinear(static)");
  EXPECT_TRUE(is_a<Identity>((*model)[1]));
  EXPECT_TRUE(is_a<Identity>((*model->at<Sequential>(2))[1]));
  for (const LayerReport& l : r.layers) {
    EXPECT_EQ(l.observer, "histogram");
    EXPECT_TRUE(std::isfinite(l.act_lo) && std::isfinite(l.act_hi) && l.act_lo < l.act_hi) << l.name;
  }
  // The inputs of "block.0" come out of a ReLU: the range starts at 0.
  EXPECT_GE(r.layers[1].act_lo, 0.0f);
  const Tensor y = (*model)(x);
  const double err = (y - y_float).pow(2.0f).mean().item(), spread = y_float.pow(2.0f).mean().item();
  EXPECT_LT(std::sqrt(err / spread), 0.05);  // as for dynamic, plus the clipping the histogram chose
}

TEST(QuantizeModel, WeightOnlyInt4AndBadConfigs) {
  Generator gen(5);
  {
    auto model = nested_model(gen);
    QuantConfig c;
    c.mode = QuantMode::WeightOnly;
    c.weight_spec = {4, Scheme::Symmetric, Granularity::PerChannel, 0, true};
    c.weight_range = "mse";
    const QuantReport r = quantize_model(*model, c);
    EXPECT_EQ(r.layers[0].kind, "QuantizedLinear(weight-only)");
    EXPECT_EQ(r.layers[0].weight_spec, "int4 symmetric per-channel(axis=0) mse");
    EXPECT_EQ(model->at<QuantizedLinear>(0)->weight().dtype(), QDtype::Int4Packed);
  }
  for (const auto& tweak : std::vector<void (*)(QuantConfig&)>{
           [](QuantConfig& c) { c.weight_range = "percentile"; },
           [](QuantConfig& c) { c.weight_spec = QuantSpec::int8_affine(); },  // dynamic needs signed weights
           [](QuantConfig& c) {
             c.mode = QuantMode::Static;
             c.activation_spec.granularity = Granularity::PerChannel;
           }}) {
    auto model = nested_model(gen);
    QuantConfig c;
    tweak(c);
    std::vector<Tensor> batches{Tensor::randn({8, 8}, gen)};
    EXPECT_THROW(quantize_model(*model, c, batches), Error);
    EXPECT_TRUE(is_a<Linear>((*model)[0]));  // nothing replaced
  }
  auto no_linear = std::make_shared<Sequential>(std::make_shared<ReLU>());
  EXPECT_THROW(quantize_model(*no_linear, QuantConfig{}), Error);
}

TEST(QuantizeModel, MseClippingBeatsMinMaxAtFourBits) {
  Generator gen(6);
  // Gaussian rows: min/max of 256 samples spans about ±2.8σ, while the least-MSE range of a
  // uniform 4-bit grid on a Gaussian is narrower (about ±2.3σ for 15 levels), so clipping buys
  // finer steps for nearly all values at the price of a few clipped ones: about 1 dB here.
  const Tensor w = Tensor::randn({16, 256}, gen) * 0.05f;
  const QuantSpec spec{4, Scheme::Symmetric, Granularity::PerChannel, 0, true};
  const QParams mm = choose_qparams(w, spec);
  const QParams mse = choose_weight_qparams_mse(w, spec);
  const Tensor w_mm = QTensor::quantize(w, mm).dequantize(), w_mse = QTensor::quantize(w, mse).dequantize();
  EXPECT_GT(snr_db(w, w_mse), snr_db(w, w_mm) + 0.5);
  // The search starts at ratio 1 (min/max itself), so no channel can end up worse, and clipping
  // only ever narrows the range.
  for (int64_t c = 0; c < 16; ++c) {
    EXPECT_LE(mse.scale[static_cast<size_t>(c)], mm.scale[static_cast<size_t>(c)]);
    EXPECT_LE(snr_db(w[c], w_mm[c]), snr_db(w[c], w_mse[c]) + 1e-9) << "channel " << c;
  }
  // Per tensor works the same way, over the whole tensor.
  const QuantSpec per_tensor{4, Scheme::Affine, Granularity::PerTensor, 0, false};
  EXPECT_GE(snr_db(w, QTensor::quantize(w, choose_weight_qparams_mse(w, per_tensor)).dequantize()),
            snr_db(w, QTensor::quantize(w, per_tensor).dequantize()));
  EXPECT_THROW(choose_weight_qparams_mse(w, spec, 0), Error);
  EXPECT_THROW(choose_weight_qparams_mse(w, spec, 10, 1.5f), Error);
}

// The mean squared output error of quantizing `w` (out, in) with `qp`, on the rows of `x` (n, in):
// the plain definition that the input-moment form (w − ŵ) M (w − ŵ)ᵀ must agree with.
std::vector<double> output_mse_rows(const Tensor& w, const QParams& qp, const Tensor& x) {
  const Tensor d = (w - QTensor::quantize(w, qp).dequantize()).contiguous();
  const Tensor e = tinyml::matmul(x, d.transpose(0, 1)).contiguous();  // (n, out)
  const int64_t n = e.shape()[0], out = e.shape()[1];
  std::vector<double> rows(static_cast<size_t>(out), 0.0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t o = 0; o < out; ++o) {
      const double v = e.data()[r * out + o];
      rows[static_cast<size_t>(o)] += v * v / static_cast<double>(n);
    }
  return rows;
}
double output_mse(const Tensor& w, const QParams& qp, const Tensor& x) {
  double sum = 0.0;
  for (const double v : output_mse_rows(w, qp, x)) sum += v;
  return sum;
}

TEST(QuantizeModel, OutputMseClippingUsesTheInputMoments) {
  Generator gen(11);
  const int64_t out = 8, in = 96, n = 512;
  // Inputs: features 64..95 are always 0 (like the border pixels of an image), the rest N(0, 1).
  Tensor x = Tensor::randn({n, in}, gen).contiguous();
  for (int64_t r = 0; r < n; ++r)
    for (int64_t k = 64; k < in; ++k) x.data()[r * in + k] = 0.0f;
  // Weights N(0, 0.05²), and in every row one weight 20x larger on a dead input: min/max spends
  // its 15 levels on that outlier, although it never reaches the output.
  Tensor w = (Tensor::randn({out, in}, gen) * 0.05f).contiguous();
  for (int64_t o = 0; o < out; ++o) w.data()[o * in + 70] = 1.0f;
  const Tensor moment = (tinyml::matmul(x.transpose(0, 1), x) * (1.0f / static_cast<float>(n))).contiguous();
  const QuantSpec spec{4, Scheme::Symmetric, Granularity::PerChannel, 0, true};
  const QParams mm = choose_qparams(w, spec);
  const QParams weight_mse = choose_weight_qparams_mse(w, spec);
  const QParams out_mse = choose_weight_qparams_mse(w, spec, 100, 0.3f, moment);
  // Weight MSE keeps the outlier (clipping it costs more than the finer steps save); output MSE
  // clips to the end of the search (ratio 0.3; the live weights, |w| < 0.25, are not clipped
  // there, so among the last ratios rounding luck decides: asserted ≤ 0.32), because the
  // outlier's error never shows. The step shrinks ~3.3x, so the output error shrinks ~11x
  // (uniform rounding error ∝ step²); asserted: 4x.
  EXPECT_LT(output_mse(w, out_mse, x) * 4.0, output_mse(w, mm, x));
  EXPECT_LT(output_mse(w, out_mse, x) * 4.0, output_mse(w, weight_mse, x));
  for (size_t c = 0; c < static_cast<size_t>(out); ++c)
    EXPECT_LE(out_mse.scale[c], 0.32f * 1.0f / 7.0f) << "channel " << c;

  // Each row's ratio is the best of the grid under the plain definition (a brute-force search over
  // the same 100 ratios; equal up to float rounding of the two ways of summing).
  const Tensor w2 = (Tensor::randn({4, in}, gen) * 0.05f).contiguous();
  const Tensor x2 = Tensor::randn({n, in}, gen);
  const Tensor m2 = tinyml::matmul(x2.transpose(0, 1), x2) * (1.0f / static_cast<float>(n));
  const std::vector<double> chosen =
      output_mse_rows(w2, choose_weight_qparams_mse(w2, spec, 100, 0.3f, m2), x2);
  for (int64_t o = 0; o < 4; ++o) {
    const Tensor row = w2.slice(0, o, o + 1).contiguous();
    float amax = 0.0f;
    for (const float v : row.to_vector()) amax = std::max(amax, std::fabs(v));
    QuantSpec one = spec;
    one.granularity = Granularity::PerTensor;
    double best = std::numeric_limits<double>::infinity();
    for (int k = 0; k < 100; ++k) {
      const float r = 1.0f - 0.7f * static_cast<float>(k) / 99.0f;
      best = std::min(best, output_mse(row, choose_qparams(-r * amax, r * amax, one), x2));
    }
    EXPECT_LE(chosen[static_cast<size_t>(o)], best * (1.0 + 1e-4)) << "row " << o;
  }

  // With M = I the output error is the weight error: the same ranges as without moments.
  Tensor eye = Tensor::zeros({in, in}).contiguous();
  for (int64_t k = 0; k < in; ++k) eye.data()[k * in + k] = 1.0f;
  EXPECT_EQ(choose_weight_qparams_mse(w2, spec, 100, 0.3f, eye).scale,
            choose_weight_qparams_mse(w2, spec).scale);

  // Bad moments: wrong shape, a non-finite entry, a per-input-channel spec (rows would not be
  // independent).
  EXPECT_THROW(choose_weight_qparams_mse(w, spec, 100, 0.3f, Tensor::zeros({in, in + 1})), Error);
  Tensor bad = moment.clone();
  bad.data()[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(choose_weight_qparams_mse(w, spec, 100, 0.3f, bad), Error);
  const QuantSpec per_input{4, Scheme::Symmetric, Granularity::PerChannel, 1, true};
  EXPECT_THROW(choose_weight_qparams_mse(w, per_input, 100, 0.3f, moment), Error);
}

TEST(QuantizeModel, SnrDefinition) {
  const Tensor w = Tensor({3.0f, -4.0f});
  EXPECT_TRUE(std::isinf(snr_db(w, w)));
  // Σw² = 25, Σ(w − ŵ)² = 0.25 → 10·log10(100) = 20 dB.
  EXPECT_NEAR(snr_db(w, Tensor({3.0f, -4.5f})), 20.0, 1e-12);
  EXPECT_THROW(snr_db(w, Tensor({1.0f})), Error);
}

TEST(QuantizeModel, ReferenceMlpShrinksToAQuarter) {
  Generator gen(7);
  auto fp32 = make_mlp({784, 256, 128, 10}, gen);
  auto int8 = make_mlp({784, 256, 128, 10}, gen);
  quantize_model(*int8, QuantConfig{});
  const SizeComparison c = compare_model_sizes(*fp32, *int8);
  // fp32: 235 146 parameters · 4 bytes. int8: 234 752 weight bytes + per output channel (394 of
  // them) a scale, a zero point, the fp32 bias and the weight's column sum: 4 · 4 bytes. The int8
  // GEMM's packed layout pads the first layer's 784 inputs to 832 where oneDNN blocks K by 64
  // (AVX-512 VNNI): 48 · 256 bytes; elsewhere it keeps the plain bytes, or nothing is packed.
  const size_t padding = int8->at<QuantizedLinear>(0)->memory_usage().weight_bytes - 784u * 256u;
  EXPECT_TRUE(padding == 0u || padding == 48u * 256u) << padding;
  EXPECT_EQ(c.a_bytes, 235146u * 4u);
  EXPECT_EQ(c.b_bytes, 234752u + padding + 394u * 16u);
  EXPECT_NEAR(c.ratio, 0.25, 0.02);
  EXPECT_NE(c.to_string().find("smaller"), std::string::npos);
  EXPECT_THROW(compare_model_sizes(Sequential(), *int8), Error);
}

}  // namespace

// Tests for calibrate(): observers hooked onto every Linear, per-layer statistics, clean-up on every path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/errors.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/sequential.hpp"
#include "tinyml/quant/calibrate.hpp"

namespace {

using tinyml::Error;
using tinyml::Generator;
using tinyml::Tensor;
using namespace tinyml::quant;
namespace nn = tinyml::nn;
using ::testing::HasSubstr;

using tinyml_test::error_of;

// Passes its input through and remembers the mode and grad mode it ran in.
class Probe : public nn::Module {
 public:
  Tensor forward(const Tensor& input) override {
    saw_training = is_training();
    saw_grad_enabled = tinyml::GradMode::is_enabled();
    return input;
  }
  std::string type_name() const override { return "Probe"; }
  bool saw_training = true;
  bool saw_grad_enabled = true;
};

// Passes its input through, but throws on call number `fail_on` (counting from 1).
class Thrower : public nn::Module {
 public:
  explicit Thrower(int fail_on) : fail_on_(fail_on) {}
  Tensor forward(const Tensor& input) override {
    if (++calls_ == fail_on_) throw Error("Thrower::forward: failing on purpose");
    return input;
  }
  std::string type_name() const override { return "Thrower"; }

 private:
  int fail_on_;
  int calls_ = 0;
};

// Holds two Linears but only ever runs the first.
class HalfUsed : public nn::Module {
 public:
  HalfUsed() {
    used = register_module("used", std::make_shared<nn::Linear>(3, 3));
    unused = register_module("unused", std::make_shared<nn::Linear>(3, 3));
  }
  Tensor forward(const Tensor& input) override { return (*used)(input); }
  std::string type_name() const override { return "HalfUsed"; }
  std::shared_ptr<nn::Linear> used;
  std::shared_ptr<nn::Linear> unused;
};

std::shared_ptr<nn::Sequential> small_mlp(Generator& gen) {
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 8, true, gen),
                                          std::make_shared<nn::ReLU>(),
                                          std::make_shared<nn::Linear>(8, 3, true, gen));
}

std::vector<Tensor> random_batches(int count, int64_t rows, int64_t cols, Generator& gen) {
  std::vector<Tensor> out;
  for (int i = 0; i < count; ++i) out.push_back(Tensor::randn({rows, cols}, gen));
  return out;
}

void expect_clean(nn::Module& model) {
  for (const auto& [name, m] : model.named_modules())
    EXPECT_EQ(m->num_forward_hooks(), 0u) << "module '" << name << "'";
}

// Population mean and standard deviation, in double.
std::pair<double, double> mean_std(const std::vector<float>& v) {
  double s = 0.0;
  for (float x : v) s += x;
  const double mean = s / static_cast<double>(v.size());
  double s2 = 0.0;
  for (float x : v) s2 += (x - mean) * (x - mean);
  return {mean, std::sqrt(s2 / static_cast<double>(v.size()))};
}

TEST(Calibrate, StatsOfEachLinearInput) {
  Generator gen(21);
  auto model = small_mlp(gen);
  const auto batches = random_batches(3, 16, 4, gen);
  const CalibrationResult res = calibrate(*model, batches);

  ASSERT_EQ(res.layers.size(), 2u);
  EXPECT_EQ(res.layers[0].name, "0");
  EXPECT_EQ(res.layers[1].name, "2");

  // Layer "0" sees the data itself.
  std::vector<float> data;
  for (const auto& b : batches) {
    const auto v = b.to_vector();
    data.insert(data.end(), v.begin(), v.end());
  }
  const LayerStats& s0 = res.at("0");
  EXPECT_EQ(s0.type, "Linear");
  EXPECT_EQ(s0.observer, "histogram");
  EXPECT_EQ(s0.count, 3 * 16 * 4);
  EXPECT_EQ(s0.min, *std::min_element(data.begin(), data.end()));
  EXPECT_EQ(s0.max, *std::max_element(data.begin(), data.end()));
  const auto [mean, stdev] = mean_std(data);
  // Both accumulate in double; only the final rounding to float differs.
  EXPECT_NEAR(s0.mean, mean, 1e-6);
  EXPECT_NEAR(s0.std, stdev, 1e-6 * stdev);
  EXPECT_EQ(s0.chosen.min, s0.min);
  EXPECT_EQ(s0.chosen.max, s0.max);
  const QParams expected = choose_qparams(s0.chosen.lo, s0.chosen.hi, QuantSpec{});
  EXPECT_EQ(s0.qparams.scale, expected.scale);
  EXPECT_EQ(s0.qparams.zero_point, expected.zero_point);
  int64_t in_hist = 0;
  for (int64_t c : s0.histogram) in_hist += c;
  EXPECT_EQ(in_hist, s0.count);
  EXPECT_EQ(s0.histogram.size(), 2048u);
  EXPECT_LE(s0.hist_lo, s0.min);
  EXPECT_GE(s0.hist_hi, s0.max);
  EXPECT_LE(s0.min, s0.p01);
  EXPECT_LE(s0.p01, s0.p99);
  EXPECT_LE(s0.p99, s0.p9999);
  EXPECT_LE(s0.p9999, s0.max);

  // Layer "2" sees relu(layer0(x)).
  std::vector<float> hidden;
  {
    tinyml::NoGradGuard no_grad;
    for (const auto& b : batches) {
      const auto v = (*(*model)[0])(b).relu().to_vector();
      hidden.insert(hidden.end(), v.begin(), v.end());
    }
  }
  const LayerStats& s2 = res.at("2");
  EXPECT_EQ(s2.count, 3 * 16 * 8);
  EXPECT_EQ(s2.min, *std::min_element(hidden.begin(), hidden.end()));
  EXPECT_EQ(s2.max, *std::max_element(hidden.begin(), hidden.end()));
  EXPECT_EQ(s2.min, 0.0f);  // 384 ReLU outputs of random pre-activations: zeros certainly among them
  EXPECT_EQ(s2.qparams.zero_point[0], 0);
}

TEST(Calibrate, PercentilesAgreeWithSortedData) {
  Generator gen(22);
  nn::Linear layer(4, 2, true, gen);  // a model on the stack works too
  const auto batches = random_batches(5, 1000, 4, gen);
  const LayerStats s = calibrate(layer, batches).at("");
  std::vector<float> data;
  for (const auto& b : batches) {
    const auto v = b.to_vector();
    data.insert(data.end(), v.begin(), v.end());
  }
  std::sort(data.begin(), data.end());
  auto exact = [&](double q) { return data[static_cast<size_t>(q * static_cast<double>(data.size() - 1))]; };
  // Off by at most one histogram bin (range/2048 ≈ 0.004 here) plus the choice of order
  // statistic: neighbouring ones near the 1% and 99% points of N(0, 1) are ~1/(n·φ(2.33)) =
  // 0.002 apart for n = 20000.
  const double bin = (s.hist_hi - s.hist_lo) / 2048.0;
  EXPECT_NEAR(s.p01, exact(0.01), bin + 0.005);
  EXPECT_NEAR(s.p99, exact(0.99), bin + 0.005);
}

// The edges a picture of the histogram draws: bins + 1 of them, from hist_lo to hist_hi exactly,
// evenly spaced, so each count sits between its two edges.
TEST(Calibrate, BinEdgesSpanTheHistogram) {
  LayerStats s;
  EXPECT_TRUE(s.bin_edges().empty());
  s.histogram = {1, 0, 2, 5};
  s.hist_lo = -1.0f;
  s.hist_hi = 1.0f;
  EXPECT_EQ(s.bin_edges(), (std::vector<double>{-1.0, -0.5, 0.0, 0.5, 1.0}));
  Generator gen(23);
  nn::Linear layer(4, 2, true, gen);
  const LayerStats c = calibrate(layer, random_batches(2, 100, 4, gen)).at("");
  const std::vector<double> e = c.bin_edges();
  ASSERT_EQ(e.size(), c.histogram.size() + 1);
  EXPECT_EQ(e.front(), c.hist_lo);
  EXPECT_EQ(e.back(), c.hist_hi);
  const double w = (static_cast<double>(c.hist_hi) - c.hist_lo) / static_cast<double>(c.histogram.size());
  for (size_t i = 1; i < e.size(); ++i) EXPECT_NEAR(e[i] - e[i - 1], w, 1e-9 * w) << i;
}

TEST(Calibrate, RemovesHooksAndRestoresModes) {
  Generator gen(23);
  auto model = small_mlp(gen);
  int user_hook_calls = 0;
  auto user_hook = (*model)[2]->register_forward_pre_hook(std::function<void(nn::Module&, const Tensor&)>(
      [&](nn::Module&, const Tensor&) { ++user_hook_calls; }));
  model->train();
  (*model)[2]->eval();  // a mixed state must come back as it was
  calibrate(*model, random_batches(2, 8, 4, gen));
  EXPECT_EQ(user_hook_calls, 2);
  EXPECT_EQ((*model)[0]->num_forward_hooks(), 0u);
  EXPECT_EQ((*model)[1]->num_forward_hooks(), 0u);
  EXPECT_EQ((*model)[2]->num_forward_hooks(), 1u);  // the user's own hook stays
  EXPECT_EQ(model->num_forward_hooks(), 0u);
  EXPECT_TRUE(model->is_training());
  EXPECT_TRUE((*model)[0]->is_training());
  EXPECT_TRUE((*model)[1]->is_training());
  EXPECT_FALSE((*model)[2]->is_training());
  user_hook.remove();
  expect_clean(*model);
}

TEST(Calibrate, RunsInEvalModeWithoutGradients) {
  Generator gen(24);
  auto probe = std::make_shared<Probe>();
  auto model = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 4, true, gen), probe);
  model->train();
  calibrate(*model, random_batches(1, 4, 4, gen));
  EXPECT_FALSE(probe->saw_training);
  EXPECT_FALSE(probe->saw_grad_enabled);
  EXPECT_TRUE(model->is_training());
  EXPECT_TRUE(probe->is_training());
  EXPECT_TRUE(tinyml::GradMode::is_enabled());
}

TEST(Calibrate, CleansUpWhenForwardThrows) {
  Generator gen(25);
  // A batch of the wrong width: the first Linear's forward throws on the second batch.
  {
    auto model = small_mlp(gen);
    model->train();
    std::vector<Tensor> batches{Tensor::randn({8, 4}, gen), Tensor::randn({8, 5}, gen)};
    EXPECT_THAT(error_of([&] { calibrate(*model, batches); }), HasSubstr("Linear::forward"));
    expect_clean(*model);
    for (const auto& [name, m] : model->named_modules()) EXPECT_TRUE(m->is_training()) << name;
  }
  // A layer between two Linears throws on its third call.
  {
    auto model = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 4, true, gen),
                                                  std::make_shared<Thrower>(3),
                                                  std::make_shared<nn::Linear>(4, 2, true, gen));
    model->eval();
    EXPECT_THAT(error_of([&] { calibrate(*model, random_batches(4, 8, 4, gen)); }),
                HasSubstr("failing on purpose"));
    expect_clean(*model);
    for (const auto& [name, m] : model->named_modules()) EXPECT_FALSE(m->is_training()) << name;
  }
}

TEST(Calibrate, NonFiniteActivationNamesTheLayer) {
  Generator gen(26);
  auto model = small_mlp(gen);
  Tensor bad = Tensor::randn({4, 4}, gen);
  bad.set({1, 2}, std::nanf(""));
  const std::string msg = error_of([&] { calibrate(*model, {Tensor::randn({4, 4}, gen), bad}); });
  EXPECT_THAT(msg, HasSubstr("calibrate: layer '0' (Linear input)"));
  EXPECT_THAT(msg, HasSubstr("1 of the 16 values"));
  expect_clean(*model);
}

TEST(Calibrate, NestedNamesAndTable) {
  Generator gen(27);
  auto block = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(6, 6, true, gen),
                                                std::make_shared<nn::ReLU>(),
                                                std::make_shared<nn::Linear>(6, 2, true, gen));
  nn::Sequential model(std::vector<std::pair<std::string, nn::ModulePtr>>{
      {"embed", std::make_shared<nn::Linear>(3, 6, true, gen)},
      {"act", std::make_shared<nn::ReLU>()},
      {"block", block}});
  const CalibrationResult res = calibrate(model, random_batches(2, 8, 3, gen));
  ASSERT_EQ(res.layers.size(), 3u);
  EXPECT_EQ(res.layers[0].name, "embed");
  EXPECT_EQ(res.layers[1].name, "block.0");
  EXPECT_EQ(res.layers[2].name, "block.2");
  const std::string table = res.table();
  for (const char* s :
       {"layer", "count", "clip%", "scale", "zp", "embed", "block.0", "block.2", "Linear", "histogram"})
    EXPECT_THAT(table, HasSubstr(s));
  // A header and one line per layer.
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 4);
  const std::string at_msg = error_of([&] { res.at("block.1"); });
  EXPECT_THAT(at_msg, HasSubstr("no layer named 'block.1'"));
  EXPECT_THAT(at_msg, HasSubstr("'embed', 'block.0', 'block.2'"));
  expect_clean(model);
}

TEST(Calibrate, ObservingOutputs) {
  Generator gen(28);
  auto model = small_mlp(gen);
  const auto batches = random_batches(2, 8, 4, gen);
  CalibrationConfig config;
  config.observe_inputs = false;
  config.observer = "minmax";
  const CalibrationResult res = calibrate(*model, batches, config);
  float mn = INFINITY;
  float mx = -INFINITY;
  {
    tinyml::NoGradGuard no_grad;
    for (const auto& b : batches) {
      const Tensor y = (*model)(b);
      mn = std::min(mn, y.min().item());
      mx = std::max(mx, y.max().item());
    }
  }
  EXPECT_EQ(res.at("2").min, mn);
  EXPECT_EQ(res.at("2").max, mx);
  EXPECT_EQ(res.at("2").qparams.scale.size(), 1u);
}

TEST(Calibrate, CollectActivationStatsIsMinMax) {
  Generator gen(29);
  auto model = small_mlp(gen);
  const CalibrationResult res = collect_activation_stats(*model, random_batches(2, 8, 4, gen));
  for (const auto& l : res.layers) {
    EXPECT_EQ(l.observer, "minmax");
    EXPECT_EQ(l.chosen.lo, l.min);
    EXPECT_EQ(l.chosen.hi, l.max);
    EXPECT_EQ(l.chosen.clipped_fraction, 0.0);
  }
}

TEST(Calibrate, EveryObserverWorks) {
  Generator gen(30);
  auto model = small_mlp(gen);
  const auto batches = random_batches(2, 32, 4, gen);
  for (const char* name : {"minmax", "moving-average", "percentile", "histogram", "entropy"}) {
    CalibrationConfig config;
    config.observer = name;
    const CalibrationResult res = calibrate(*model, batches, config);
    EXPECT_EQ(res.at("0").observer, name);
  }
  CalibrationConfig per_channel;
  per_channel.observer = "per-channel-minmax";
  per_channel.spec = QuantSpec::int8_symmetric_per_channel(-1);  // one qparams per feature
  const CalibrationResult res = calibrate(*model, batches, per_channel);
  EXPECT_EQ(res.at("0").qparams.scale.size(), 4u);
  EXPECT_EQ(res.at("2").qparams.scale.size(), 8u);
  expect_clean(*model);
}

TEST(Calibrate, SharedLinearIsObservedOnce) {
  Generator gen(31);
  auto shared = std::make_shared<nn::Linear>(4, 4, true, gen);
  nn::Sequential model(shared, std::make_shared<nn::ReLU>(), shared);
  const CalibrationResult res = calibrate(model, random_batches(1, 8, 4, gen));
  ASSERT_EQ(res.layers.size(), 1u);
  EXPECT_EQ(res.layers[0].count, 2 * 8 * 4);  // both of its calls
  expect_clean(model);
}

TEST(Calibrate, BadArguments) {
  Generator gen(32);
  auto model = small_mlp(gen);
  EXPECT_THAT(error_of([&] { calibrate(*model, {}); }), HasSubstr("calibrate: no calibration data"));
  EXPECT_THAT(error_of([&] {
                calibrate(*model, {Tensor::randn({2, 4}, gen), Tensor()});
              }),
              HasSubstr("batch 1 of 2 is undefined"));
  CalibrationConfig config;
  config.observer = "median";
  const std::string msg = error_of([&] { calibrate(*model, random_batches(1, 2, 4, gen), config); });
  EXPECT_THAT(msg, HasSubstr("unknown observer 'median'"));
  EXPECT_THAT(msg, HasSubstr("entropy"));
  expect_clean(*model);

  nn::ReLU no_linear;
  EXPECT_THAT(error_of([&] { calibrate(no_linear, random_batches(1, 2, 4, gen)); }),
              HasSubstr("no nn::Linear"));

  HalfUsed half;
  EXPECT_THAT(error_of([&] { calibrate(half, random_batches(1, 2, 3, gen)); }),
              HasSubstr("layer 'unused' (Linear) never ran"));
  expect_clean(half);
}

}  // namespace

namespace {

// Input moments: E[x xᵀ] of each Linear's inputs over every row of every batch, computed here by
// the definition (a double loop over rows) and compared with calibrate's sgemm accumulation.
TEST(Calibrate, InputMomentsAreTheMeanOuterProductOfTheInputs) {
  Generator gen(21);
  auto first = std::make_shared<nn::Linear>(5, 3, true, gen);
  auto model = std::make_shared<nn::Sequential>(first, std::make_shared<nn::ReLU>(),
                                                std::make_shared<nn::Linear>(3, 2, true, gen));
  const std::vector<Tensor> batches{Tensor::randn({7, 5}, gen), Tensor::randn({4, 5}, gen)};
  CalibrationConfig config;
  config.observer = "minmax";
  config.input_moments = true;
  const CalibrationResult r = calibrate(*model, batches, config);
  const Tensor m = r.at("0").input_moment;
  ASSERT_EQ(m.shape(), (tinyml::Shape{5, 5}));
  std::vector<double> expect(25, 0.0);
  for (const Tensor& b : batches) {
    const std::vector<float> v = b.to_vector();
    for (int64_t row = 0; row < b.shape()[0]; ++row)
      for (int64_t i = 0; i < 5; ++i)
        for (int64_t j = 0; j < 5; ++j)
          expect[static_cast<size_t>(i * 5 + j)] += v[row * 5 + i] * v[row * 5 + j] / 11.0;
  }
  const std::vector<float> got = m.to_vector();
  // Float sums of 11 products of N(0,1) values: relative error ~1e-6; 1e-5 absolute is ample.
  for (size_t i = 0; i < 25; ++i) EXPECT_NEAR(got[i], expect[i], 1e-5) << "entry " << i;
  EXPECT_EQ(r.at("2").input_moment.shape(), (tinyml::Shape{3, 3}));
  // Not asked for: not computed.
  EXPECT_FALSE(calibrate(*model, batches).at("0").input_moment.defined());
  // Moments are of inputs; asking for them while observing outputs is a mistake.
  config.observe_inputs = false;
  EXPECT_THAT(error_of([&] { calibrate(*model, batches, config); }),
              HasSubstr("input_moments needs observe_inputs"));
}

}  // namespace

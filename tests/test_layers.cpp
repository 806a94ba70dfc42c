// Tests of the tinyml::nn layers: Linear, activations, Dropout, Flatten, Identity, Sequential.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tests/support/errors.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/nn/nn.hpp"

namespace {

using tinyml::Error;
using tinyml::Generator;
using tinyml::Tensor;
namespace nn = tinyml::nn;

using tinyml_test::error_of;

// A Linear with weight [[1, 2, 3], [-1, 0, 0.5]] and bias [0.5, -1].
std::shared_ptr<nn::Linear> small_linear() {
  auto lin = std::make_shared<nn::Linear>(3, 2);
  lin->weight.copy_(Tensor({{1.0f, 2.0f, 3.0f}, {-1.0f, 0.0f, 0.5f}}));
  lin->bias.copy_(Tensor({0.5f, -1.0f}));
  return lin;
}

TEST(LayersLinear, ValuesMatchHandComputation) {
  auto lin = small_linear();
  const Tensor x({{1.0f, 0.0f, -1.0f}, {2.0f, 1.0f, 0.0f}});
  const Tensor y = (*lin)(x);
  ASSERT_EQ(y.shape(), (tinyml::Shape{2, 2}));
  // row 0: 1 + 0 − 3 + 0.5 = −1.5 ; −1 + 0 − 0.5 − 1 = −2.5
  // row 1: 2 + 2 + 0 + 0.5 = 4.5 ; −2 + 0 + 0 − 1 = −3
  EXPECT_EQ(y.to_vector(), (std::vector<float>{-1.5f, -2.5f, 4.5f, -3.0f}));
}

TEST(LayersLinear, OneDimensionalAndBatchedInputs) {
  auto lin = small_linear();
  const Tensor y1 = (*lin)(Tensor({1.0f, 0.0f, -1.0f}));
  ASSERT_EQ(y1.shape(), (tinyml::Shape{2}));
  EXPECT_EQ(y1.to_vector(), (std::vector<float>{-1.5f, -2.5f}));

  // (2, 2, 3): the leading dimensions are kept.
  const Tensor x3({{{1.0f, 0.0f, -1.0f}, {2.0f, 1.0f, 0.0f}}, {{0.0f, 0.0f, 0.0f}, {1.0f, 1.0f, 1.0f}}});
  const Tensor y3 = (*lin)(x3);
  ASSERT_EQ(y3.shape(), (tinyml::Shape{2, 2, 2}));
  EXPECT_EQ(y3.to_vector(), (std::vector<float>{-1.5f, -2.5f, 4.5f, -3.0f, 0.5f, -1.0f, 6.5f, -1.5f}));
}

TEST(LayersLinear, NoBiasAndGradients) {
  auto lin = std::make_shared<nn::Linear>(3, 2, false);
  EXPECT_FALSE(lin->has_bias());
  EXPECT_EQ(lin->parameters().size(), 1u);
  lin->weight.copy_(Tensor({{1.0f, 2.0f, 3.0f}, {-1.0f, 0.0f, 0.5f}}));
  const Tensor x({{1.0f, 0.0f, -1.0f}, {2.0f, 1.0f, 0.0f}});
  (*lin)(x).sum().backward();
  // d sum(x·Wᵀ) / dW[o, i] = Σ_n x[n, i] = [3, 1, −1] for both rows.
  EXPECT_EQ(lin->weight.grad().to_vector(), (std::vector<float>{3, 1, -1, 3, 1, -1}));
}

TEST(LayersLinear, BadInputNamesBothShapes) {
  auto lin = small_linear();
  const std::string msg = error_of([&] { (*lin)(Tensor::zeros({4, 5})); });
  EXPECT_NE(msg.find("Linear"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[4, 5]"), std::string::npos) << msg;  // the input
  EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;  // the weight
  EXPECT_THROW((*lin)(Tensor::scalar(1.0f)), Error);
  EXPECT_THROW((*lin)(Tensor()), Error);
  EXPECT_THROW(nn::Linear(0, 3), Error);
}

TEST(LayersLinear, DefaultInitWithinPyTorchBounds) {
  // weight and bias ~ U(−1/√in, 1/√in) = U(−0.05, 0.05) for in = 400. With 400·300 = 120000
  // weights, max |w| < 0.05·(1 − 1e-3) has probability (1 − 1e-3)^120000 ≈ e^−120: the bound is
  // reached, not just respected. The 300 biases reach 90 % of it with probability 1 − 0.9³⁰⁰.
  Generator gen(11);
  nn::Linear lin(400, 300, true, gen);
  const double bound = 1.0 / std::sqrt(400.0);
  double wmax = 0, bmax = 0;
  for (float v : lin.weight.to_vector()) wmax = std::max(wmax, static_cast<double>(std::abs(v)));
  for (float v : lin.bias.to_vector()) bmax = std::max(bmax, static_cast<double>(std::abs(v)));
  EXPECT_LE(wmax, bound * (1 + 1e-6));
  EXPECT_GE(wmax, bound * (1 - 1e-3));
  EXPECT_LE(bmax, bound * (1 + 1e-6));
  EXPECT_GE(bmax, bound * 0.9);
  EXPECT_TRUE(lin.weight.requires_grad());
  EXPECT_TRUE(lin.bias.requires_grad());

  Generator again(11);
  nn::Linear twin(400, 300, true, again);
  EXPECT_TRUE(tinyml::equal(lin.weight, twin.weight));  // seeded
}

TEST(LayersActivation, ValuesAndRepr) {
  const Tensor x({-2.0f, 0.0f, 3.0f});
  EXPECT_EQ(nn::ReLU()(x).to_vector(), (std::vector<float>{0.0f, 0.0f, 3.0f}));
  const std::vector<float> s = nn::Sigmoid()(x).to_vector();
  const std::vector<float> t = nn::Tanh()(x).to_vector();
  for (size_t i = 0; i < 3; ++i) {
    const double v = x.to_vector()[i];
    EXPECT_NEAR(s[i], 1.0 / (1.0 + std::exp(-v)), 1e-6);
    EXPECT_NEAR(t[i], std::tanh(v), 1e-6);
  }
  const Tensor m({{1.0f, 2.0f}, {3.0f, 3.0f}});
  const std::vector<float> sm = nn::Softmax(1)(m).to_vector();
  const double e = 1.0 / (1.0 + std::exp(1.0));  // softmax([1, 2])[0]
  EXPECT_NEAR(sm[0], e, 1e-6);
  EXPECT_NEAR(sm[1], 1 - e, 1e-6);
  EXPECT_NEAR(sm[2], 0.5, 1e-6);
  const std::vector<float> lsm = nn::LogSoftmax(-1)(m).to_vector();
  EXPECT_NEAR(lsm[0], std::log(e), 1e-6);
  EXPECT_NEAR(lsm[3], std::log(0.5), 1e-6);

  EXPECT_EQ(nn::ReLU().repr(), "ReLU()");
  EXPECT_EQ(nn::Softmax(1).repr(), "Softmax(dim=1)");
  EXPECT_EQ(nn::LogSoftmax(-1).repr(), "LogSoftmax(dim=-1)");
  EXPECT_EQ(nn::Identity().repr(), "Identity()");
}

TEST(LayersDropout, TrainZeroesAndScalesEvalIsIdentity) {
  // p = 0.25 on n = 40000 ones: each output is 0 or 1/0.75. The zero count is Binomial(n, p),
  // standard deviation √(n·p·(1 − p)) ≈ 86.6; the bound is 6 of those.
  const int64_t n = 40000;
  const double p = 0.25;
  nn::Dropout drop(static_cast<float>(p), uint64_t{123});
  const Tensor x = Tensor::ones({n});
  const std::vector<float> y = drop(x).to_vector();
  int64_t zeros = 0;
  for (float v : y) {
    if (v == 0.0f) {
      ++zeros;
    } else {
      ASSERT_FLOAT_EQ(v, 1.0f / 0.75f);
    }
  }
  EXPECT_NEAR(static_cast<double>(zeros), n * p, 6 * std::sqrt(n * p * (1 - p)));

  drop.eval();
  EXPECT_TRUE(tinyml::equal(drop(x), x));
  EXPECT_EQ(drop.repr(), "Dropout(p=0.25)");
  EXPECT_THROW(nn::Dropout(1.5f), Error);
}

TEST(LayersDropout, SeededMasksRepeatAndGeneratorIsShared) {
  const Tensor x = Tensor::ones({64});
  nn::Dropout a(0.5f, uint64_t{7}), b(0.5f, uint64_t{7});
  EXPECT_TRUE(tinyml::equal(a(x), b(x)));

  Generator g1(5), g2(5);
  nn::Dropout c(0.5f, g1), d(0.5f, g2);
  const Tensor c1 = c(x);
  EXPECT_TRUE(tinyml::equal(c1, d(x)));
  // The generator moves on: a second mask equals the first with probability 2⁻⁶⁴.
  EXPECT_FALSE(tinyml::equal(c(x), c1));
  EXPECT_EQ(nn::Dropout(0.0f).repr(), "Dropout(p=0.0)");
}

TEST(LayersFlatten, Shapes) {
  const Tensor x = Tensor::arange(24.0f).reshape({2, 3, 4});
  EXPECT_EQ(nn::Flatten()(x).shape(), (tinyml::Shape{2, 12}));
  EXPECT_EQ(nn::Flatten(0, -1)(x).shape(), (tinyml::Shape{24}));
  EXPECT_EQ(nn::Flatten(0, 1)(x).shape(), (tinyml::Shape{6, 4}));
  EXPECT_EQ(nn::Flatten()(x).to_vector(), x.to_vector());
  EXPECT_EQ(nn::Flatten().repr(), "Flatten(start_dim=1, end_dim=-1)");
  EXPECT_THROW(nn::Flatten(3)(x), Error);
  EXPECT_TRUE(tinyml::equal(nn::Identity()(x), x));
}

std::shared_ptr<nn::Sequential> mlp() {
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(784, 256),
                                          std::make_shared<nn::ReLU>(),
                                          std::make_shared<nn::Linear>(256, 10));
}

TEST(LayersSequential, IndexNameAndTypedAccess) {
  auto seq = mlp();
  ASSERT_EQ(seq->size(), 3u);
  EXPECT_EQ((*seq)[0]->type_name(), "Linear");
  EXPECT_EQ((*seq)[-1], (*seq)[2]);
  EXPECT_EQ((*seq)[-3], (*seq)[0]);
  EXPECT_THROW((*seq)[3], Error);
  EXPECT_THROW((*seq)[-4], Error);
  EXPECT_EQ(seq->get("1"), (*seq)[1]);
  EXPECT_THROW(seq->get("fc"), Error);

  auto first = seq->at<nn::Linear>(0);
  EXPECT_EQ(first->out_features(), 256);
  const std::string msg = error_of([&] { seq->at<nn::Linear>(1); });
  EXPECT_NE(msg.find("ReLU"), std::string::npos) << msg;

  seq->push_back("head_act", std::make_shared<nn::Softmax>(1));
  EXPECT_EQ(seq->get("head_act")->type_name(), "Softmax");
  EXPECT_EQ(seq->name_at(3), "head_act");
  EXPECT_THROW(seq->push_back("head_act", std::make_shared<nn::ReLU>()), Error);  // name taken
  EXPECT_THROW(seq->push_back(nullptr), Error);
}

TEST(LayersSequential, ForwardChainsChildren) {
  auto lin = small_linear();
  nn::Sequential seq{lin, std::make_shared<nn::ReLU>()};
  const Tensor y = seq(Tensor({{1.0f, 0.0f, -1.0f}, {2.0f, 1.0f, 0.0f}}));
  EXPECT_EQ(y.to_vector(), (std::vector<float>{0.0f, 0.0f, 4.5f, 0.0f}));
  nn::Sequential empty;
  const Tensor x({1.0f, 2.0f});
  EXPECT_TRUE(tinyml::equal(empty(x), x));
}

TEST(LayersSequential, ReplaceKeepsName) {
  auto seq = mlp();
  auto act = std::make_shared<nn::Tanh>();
  seq->replace(-2, act);
  EXPECT_EQ((*seq)[1], act);
  EXPECT_EQ(seq->name_at(1), "1");
  EXPECT_THROW(seq->replace(5, act), Error);
  EXPECT_THROW(seq->replace(0, nullptr), Error);
  const Tensor y = (*seq)(Tensor::zeros({2, 784}));
  EXPECT_EQ(y.shape(), (tinyml::Shape{2, 10}));
}

TEST(LayersSequential, NestedNamesAndRepr) {
  auto inner =
      std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 3), std::make_shared<nn::ReLU>());
  nn::Sequential outer({std::make_shared<nn::Flatten>(), inner, std::make_shared<nn::Linear>(3, 2, false),
                        std::make_shared<nn::Dropout>(0.1f)});
  std::vector<std::string> names;
  for (const auto& [name, t] : outer.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"1.0.weight", "1.0.bias", "2.weight"}));

  // PyTorch 1.13 prints the same model identically, except "Dropout(p=0.1, inplace=False)":
  // there is no in-place dropout here.
  EXPECT_EQ(outer.repr(),
            "Sequential(\n"
            "  (0): Flatten(start_dim=1, end_dim=-1)\n"
            "  (1): Sequential(\n"
            "    (0): Linear(in_features=4, out_features=3, bias=True)\n"
            "    (1): ReLU()\n"
            "  )\n"
            "  (2): Linear(in_features=3, out_features=2, bias=False)\n"
            "  (3): Dropout(p=0.1)\n"
            ")");
  EXPECT_EQ(nn::Sequential().repr(), "Sequential()");
  EXPECT_EQ(mlp()->repr(),
            "Sequential(\n"
            "  (0): Linear(in_features=784, out_features=256, bias=True)\n"
            "  (1): ReLU()\n"
            "  (2): Linear(in_features=256, out_features=10, bias=True)\n"
            ")");
}

TEST(LayersSequential, NamedConstructionAndVector) {
  nn::Sequential named(std::vector<std::pair<std::string, nn::ModulePtr>>{
      {"fc", std::make_shared<nn::Linear>(2, 2)}, {"act", std::make_shared<nn::ReLU>()}});
  EXPECT_EQ(named.get("fc")->type_name(), "Linear");
  EXPECT_EQ(named.state_dict().count("fc.weight"), 1u);
  nn::Sequential from_vec(
      std::vector<nn::ModulePtr>{std::make_shared<nn::ReLU>(), std::make_shared<nn::Tanh>()});
  EXPECT_EQ(from_vec.name_at(1), "1");
}

}  // namespace

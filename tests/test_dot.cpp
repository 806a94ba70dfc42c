// DOT output: a tensor's autograd graph (ops, shapes, gradients) and a model's layers (shapes, bits).
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <string>

#include "tinyml/autograd/dot.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/io/dot.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/quant/quantize_model.hpp"
#include "tinyml/quant/quantized_linear.hpp"

using namespace tinyml;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

int count(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  return static_cast<int>(
      std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

}  // namespace

TEST(AutogradDot, DrawsTensorsOpsAndEdgesOfAnExpression) {
  Tensor a = Tensor::from_vector({1, 2}, {2}).requires_grad_();
  Tensor b = Tensor::from_vector({3, 4}, {2}).requires_grad_();
  Tensor y = (a * b).sum();
  const std::string dot = autograd::to_dot(y, {{"a", a}, {"b", b}, {"y", y}});
  EXPECT_EQ(dot.rfind("digraph autograd {", 0), 0u);
  EXPECT_EQ(dot.back(), '\n');
  // Four tensors (y, a*b, a, b) and two ops; 5 edges: a, b -> mul -> a*b -> sum -> y.
  EXPECT_EQ(count(dot, R"x(t\d+ \[shape=box)x"), 4);
  EXPECT_EQ(count(dot, R"x(op\d+ \[shape=ellipse)x"), 2);
  EXPECT_EQ(count(dot, " -> "), 5);
  EXPECT_THAT(dot, HasSubstr(R"x(t0 [shape=box, label="y\n[] [11]"];)x"));  // 1·3 + 2·4
  EXPECT_THAT(dot, HasSubstr(R"x(label="a\n[2] [1, 2]")x"));
  EXPECT_THAT(dot, HasSubstr(R"x(label="MulBackward0")x"));
  EXPECT_THAT(dot, HasSubstr(R"x(label="SumBackward0")x"));
  EXPECT_THAT(dot, HasSubstr("op0 -> t0;"));    // the sum produced y
  EXPECT_THAT(dot, Not(HasSubstr("\\ngrad")));  // nothing computed yet
}

TEST(AutogradDot, ShowsGradientsOnceBackwardRan) {
  Tensor a = Tensor::from_vector({1, 2}, {2}).requires_grad_();
  Tensor b = Tensor::from_vector({3, 4}, {2}).requires_grad_();
  Tensor y = (a * b).sum();
  y.backward({}, /*retain_graph=*/true);
  const std::string dot = autograd::to_dot(y, {{"a", a}, {"b", b}});
  // dy/da = b, dy/db = a (by hand).
  EXPECT_THAT(dot, HasSubstr(R"x(label="a\n[2] [1, 2]\ngrad [3, 4]")x"));
  EXPECT_THAT(dot, HasSubstr(R"x(label="b\n[2] [3, 4]\ngrad [1, 2]")x"));
  EXPECT_EQ(count(dot, " -> "), 5) << "retain_graph keeps the edges";
  // A larger gradient is summarised by its norm: d(sum(w·w))/dw = 2w, |2w| = 2·sqrt(1+4+9+16+25).
  Tensor w = Tensor::from_vector({1, 2, 3, 4, 5}, {5}).requires_grad_();
  (w * w).sum().backward();
  EXPECT_THAT(autograd::to_dot(w, {{"w", w}}), HasSubstr(R"x(label="w\n[5]\ngrad |g| = 14.83")x"));
}

TEST(AutogradDot, AFreedGraphAndALeafAreDrawnAsWhatIsLeft) {
  Tensor a = Tensor::from_vector({1, 2}, {2}).requires_grad_();
  Tensor y = (a * 2.0f).sum();
  y.backward();  // no retain_graph: the edges are gone
  const std::string dot = autograd::to_dot(y);
  EXPECT_THAT(dot, HasSubstr(R"x(SumBackward0\n(freed))x"));
  EXPECT_EQ(count(dot, " -> "), 1);
  EXPECT_EQ(count(autograd::to_dot(a), " -> "), 0);
  EXPECT_THAT(autograd::to_dot(a, {{"say \"hi\"", a}}), HasSubstr(R"x(label="say \"hi\"\n)x"));
  EXPECT_THROW(autograd::to_dot(Tensor()), Error);
}

TEST(ModelDot, LayersWithShapesAndStorageInOrder) {
  Generator gen(1);
  nn::Sequential model(std::make_shared<nn::Linear>(4, 3, true, gen), std::make_shared<nn::ReLU>(),
                       std::make_shared<nn::Linear>(3, 2, true, gen));
  const std::string dot = io::model_to_dot(model, 5);
  EXPECT_EQ(dot.rfind("digraph model {", 0), 0u);
  EXPECT_THAT(dot, HasSubstr(R"x(input [label="input\n(5, 4)"];)x"));
  EXPECT_THAT(dot,
              HasSubstr(R"x(l0 [label="0: Linear\n(5, 4) -> (5, 3)\nfp32, 15 parameters"];)x"));  // 4·3 + 3
  EXPECT_THAT(dot, HasSubstr(R"x(l1 [label="1: ReLU\n(5, 3) -> (5, 3)\nno parameters"];)x"));
  EXPECT_THAT(dot,
              HasSubstr(R"x(l2 [label="2: Linear\n(5, 3) -> (5, 2)\nfp32, 8 parameters"];)x"));  // 3·2 + 2
  for (const char* edge : {"input -> l0;", "l0 -> l1;", "l1 -> l2;", "l2 -> output;"})
    EXPECT_THAT(dot, HasSubstr(edge));
  EXPECT_THAT(dot, HasSubstr(R"x(output [label="output\n(5, 2)"];)x"));
  EXPECT_EQ(count(dot, R"x(\n  \w+ -> \w+;)x"), 4);  // edges, not the labels' arrows
  EXPECT_THROW(io::model_to_dot(model, 0), Error);
  nn::Sequential no_linear(std::make_shared<nn::ReLU>());
  EXPECT_THROW(io::model_to_dot(no_linear), Error);
}

TEST(ModelDot, QuantizedLayersShowTheirBitsAndBytes) {
  Generator gen(2);
  nn::Sequential model(std::make_shared<nn::Linear>(8, 6, true, gen), std::make_shared<nn::ReLU>(),
                       std::make_shared<nn::Linear>(6, 2, true, gen));
  quant::QuantConfig config;
  config.mode = quant::QuantMode::WeightOnly;
  config.weight_spec = quant::QuantSpec{4, quant::Scheme::Symmetric, quant::Granularity::PerChannel, 0, true};
  config.skip = {"last"};
  quant::quantize_model(model, config);
  const auto* q = dynamic_cast<const quant::QuantizedLinear*>(model.named_children()[0].second.get());
  ASSERT_NE(q, nullptr);
  const std::string dot = io::model_to_dot(model);
  EXPECT_THAT(dot,
              HasSubstr(fmt::format(R"x(0: QuantizedLinear\n(1, 8) -> (1, 6)\nint4 symmetric per-channel, )x"
                                    R"x(weight-only\n{} bytes (fp32: 216))x",
                                    q->memory_usage().total())));  // (6·8 + 6)·4
  EXPECT_THAT(dot, HasSubstr(R"x(2: Linear\n(1, 6) -> (1, 2)\nfp32, 14 parameters)x"));
}

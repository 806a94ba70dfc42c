// The code of modules/07_profiling/README.md, verbatim (tests/test_course.cpp checks it still matches).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/quant/profile.hpp"

using namespace tinyml;

TEST(Snippets07, Profile) {
  Generator gen(0);
  nn::Sequential model(std::make_shared<nn::Linear>(784, 256, true, gen), std::make_shared<nn::ReLU>(),
                       std::make_shared<nn::Linear>(256, 10, true, gen));
  quant::ModelProfile p = quant::profile(model, Tensor::ones({64, 784}));
  std::string table = quant::format_profile(p);

  EXPECT_EQ(p.layers.size(), 3u);
  EXPECT_EQ(p.layers[0].flops, 64 * (2 * 784 * 256 + 256));
  EXPECT_NE(table.find("int4"), std::string::npos);
}

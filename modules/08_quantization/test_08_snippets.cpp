// The code of modules/08_quantization/README.md, verbatim (tests/test_course.cpp checks it still matches).
#include <gtest/gtest.h>

#include <memory>

#include "tinyml/core/tensor.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/quant/profile.hpp"
#include "tinyml/quant/qparams.hpp"
#include "tinyml/quant/qtensor.hpp"
#include "tinyml/quant/quantize_model.hpp"

using namespace tinyml;

TEST(Snippets08, QTensor) {
  quant::QParams qp = quant::choose_qparams(-0.7f, 2.3f, quant::QuantSpec::int8_affine());
  // qp.scale[0] = 3.0 / 255, qp.zero_point[0] = 59
  quant::QTensor q = quant::QTensor::quantize(Tensor({-0.7f, 0.0f, 1.0f, 2.3f}), qp);
  Tensor back = q.dequantize();  // within scale / 2 of the input; 0.0 exactly
  size_t bytes = q.nbytes();     // 4 values + 8 bytes of qparams = 12

  EXPECT_EQ(qp.zero_point[0], 59);
  EXPECT_FLOAT_EQ(back.at({1}), 0.0f);
  EXPECT_NEAR(back.at({2}), 1.0f, qp.scale[0] / 2);
  EXPECT_EQ(bytes, 12u);
}

TEST(Snippets08, QuantizeModel) {
  Generator gen(0);
  auto model = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(784, 256, true, gen),
                                                std::make_shared<nn::ReLU>(),
                                                std::make_shared<nn::Linear>(256, 10, true, gen));
  auto original = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(784, 256),
                                                   std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(256, 10));
  original->load_state_dict(model->state_dict());
  quant::QuantConfig config;
  config.mode = quant::QuantMode::WeightOnly;
  quant::quantize_model(*model, config);
  quant::SizeComparison sizes = quant::compare_model_sizes(*original, *model);  // about 0.25x
  quant::ModelProfile before = quant::profile(*original, Tensor::ones({64, 784}));  // module 07
  quant::ModelProfile after = quant::profile(*model, Tensor::ones({64, 784}));
  // before.int8_bytes(), the saving module 07 predicted, is after.bytes(), what is now held

  EXPECT_NEAR(sizes.ratio, 0.25, 0.01);
  EXPECT_EQ(before.int8_bytes(), after.bytes());
  EXPECT_EQ(before.flops(), after.flops());
}

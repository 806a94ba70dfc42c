#include "lab/argmax_flips.hpp"

#include <limits>
#include <vector>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/quant/error_metrics.hpp"
#include "tinyml/quant/qtensor.hpp"

namespace tinyml::cli::precision {

namespace {

Tensor weights_at(const Tensor& w, int bits) {
  const quant::QuantSpec spec{bits, quant::Scheme::Symmetric, quant::Granularity::PerChannel, 0, true};
  return quant::QTensor::quantize(w.detach(), spec).dequantize();
}

// The mean over the rows of `logits` (samples × classes) of the gap between the two largest values.
double mean_top2_gap(const Tensor& logits) {
  const std::vector<float> lv = logits.to_vector();
  const int64_t rows = logits.size(0), classes = logits.size(1);
  double gap = 0.0;
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = lv.data() + i * classes;
    float top = -std::numeric_limits<float>::infinity(), second = top;
    for (int64_t c = 0; c < classes; ++c) {
      if (row[c] > top) {
        second = top;
        top = row[c];
      } else if (row[c] > second) {
        second = row[c];
      }
    }
    gap += static_cast<double>(top) - second;
  }
  return gap / static_cast<double>(rows);
}

}  // namespace

FlipResult argmax_flip_experiment(Generator& gen, int64_t samples) {
  TINYML_CHECK(samples > 0, "argmax_flip_experiment: samples must be > 0, got {}", samples);
  FlipResult r;
  r.samples = samples;
  nn::Linear l1(r.inputs, r.hidden, true, gen);
  nn::Linear l2(r.hidden, r.classes, true, gen);
  const Tensor x = Tensor::randn({samples, r.inputs}, gen);

  NoGradGuard no_grad;
  const auto logits_with = [&](const Tensor& w1, const Tensor& w2) {
    return linear(relu(linear(x, w1, l1.bias)), w2, l2.bias);
  };
  const Tensor ref = logits_with(l1.weight, l2.weight);
  const Tensor q8 = logits_with(weights_at(l1.weight, 8), weights_at(l2.weight, 8));
  const Tensor q4 = logits_with(weights_at(l1.weight, 4), weights_at(l2.weight, 4));
  const std::vector<float> am = argmax(ref, 1).to_vector();
  const std::vector<float> a8 = argmax(q8, 1).to_vector();
  const std::vector<float> a4 = argmax(q4, 1).to_vector();
  for (size_t i = 0; i < am.size(); ++i) {
    r.flips_int8 += am[i] != a8[i];
    r.flips_int4 += am[i] != a4[i];
  }
  r.mean_top2_gap = mean_top2_gap(ref);
  r.logit_snr_int8_db = quant::snr_db(ref, q8);
  r.logit_snr_int4_db = quant::snr_db(ref, q4);
  return r;
}

}  // namespace tinyml::cli::precision

// `tinyml demo`: what the report's figures show, measured on the trained models.
#include "lab/demo_pictures.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "lab/histogram_bins.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/quant/calibrate.hpp"
#include "tinyml/quant/quantized_linear.hpp"

namespace tinyml::cli::demo {

namespace {

// The layers the figures show: the first Linear, and the one whose inputs the static model calibrates.
const std::string kFirst = "0";
const std::string kCalibrated = "2";

template <typename T>
std::shared_ptr<T> layer(nn::Sequential& model, const std::string& name) {
  for (const auto& [n, m] : model.named_modules())
    if (n == name)
      if (auto p = std::dynamic_pointer_cast<T>(m)) return p;
  TINYML_CHECK(false, "demo: the model has no layer '{}' of the expected type", name);
  return nullptr;
}

std::vector<float> weight_error(const quant::QuantizedLinear& q, const nn::Linear& fp) {
  const std::vector<float> w_hat = q.unpacked_weight().dequantize().to_vector();
  const std::vector<float> w = fp.weight.detach().contiguous().to_vector();
  std::vector<float> e(w.size());
  for (size_t i = 0; i < w.size(); ++i) e[i] = w_hat[i] - w[i];
  return e;
}

double max_scale(const quant::QuantizedLinear& q) {
  const std::vector<float>& s = q.weight_qparams().scale;
  return *std::max_element(s.begin(), s.end());
}

}  // namespace

ClipPicture clip_picture(nn::Sequential& model, nn::Sequential& int4_mse) {
  auto fp_first = layer<nn::Linear>(model, kFirst);
  auto q_mse = layer<quant::QuantizedLinear>(int4_mse, kFirst);
  const std::vector<float> w = fp_first->weight.detach().contiguous().to_vector();
  const int64_t out = fp_first->out_features(), in = fp_first->in_features();
  const int32_t qmax = q_mse->weight_qparams().spec.qmax();
  const std::vector<float>& scale = q_mse->weight_qparams().scale;
  std::vector<std::pair<double, int64_t>> ratio;
  std::vector<double> amax(static_cast<size_t>(out), 0.0);
  for (int64_t r = 0; r < out; ++r) {
    const auto ri = static_cast<size_t>(r);
    for (int64_t c = 0; c < in; ++c)
      amax[ri] = std::max(amax[ri], static_cast<double>(std::fabs(w[static_cast<size_t>(r * in + c)])));
    const double clip = static_cast<double>(scale[ri]) * qmax;
    ratio.emplace_back(amax[ri] > 0 ? clip / amax[ri] : 1.0, r);
  }
  std::sort(ratio.begin(), ratio.end());
  const int64_t ch = ratio[ratio.size() / 4].second;
  ClipPicture p;
  p.layer = kFirst;
  p.channel = ch;
  p.bits = 4;
  p.weights.assign(w.begin() + ch * in, w.begin() + (ch + 1) * in);
  p.minmax_clip = amax[static_cast<size_t>(ch)];
  p.mse_clip = static_cast<double>(scale[static_cast<size_t>(ch)]) * qmax;
  return p;
}

ErrorPicture error_picture(nn::Sequential& model, nn::Sequential& int8, nn::Sequential& int4_minmax) {
  auto fp_first = layer<nn::Linear>(model, kFirst);
  auto q8 = layer<quant::QuantizedLinear>(int8, kFirst);
  auto q4 = layer<quant::QuantizedLinear>(int4_minmax, kFirst);
  return {kFirst, weight_error(*q8, *fp_first), weight_error(*q4, *fp_first), max_scale(*q8), max_scale(*q4)};
}

ActivationPicture activation_picture(nn::Sequential& model, const std::vector<Tensor>& calib) {
  quant::CalibrationConfig cc;
  cc.observer = "histogram";
  cc.spec = quant::QuantSpec::int8_affine();
  const quant::CalibrationResult cal = quant::calibrate(model, calib, cc);
  const quant::LayerStats& st = cal.at(kCalibrated);
  ActivationPicture a;
  a.layer = kCalibrated;
  a.observer = st.observer;
  a.bits = 8;
  a.count = st.count;
  plot::Bins bins = calibration_bins(st);
  a.edges = std::move(bins.edges);
  a.counts = std::move(bins.counts);
  a.min = st.min;
  a.max = st.max;
  a.lo = st.chosen.lo;
  a.hi = st.chosen.hi;
  a.clipped_fraction = st.chosen.clipped_fraction;
  return a;
}

}  // namespace tinyml::cli::demo

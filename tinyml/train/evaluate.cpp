#include "tinyml/train/evaluate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"

namespace tinyml::train {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Adds to r.correct and r.n the examples of `b` whose first maximal logit is the target.
void count_correct(const Tensor& logits, const data::Batch& b, EvalResult& r) {
  TINYML_CHECK(logits.dim() == 2 && logits.size(0) == b.data.size(0),
               "evaluate: the model returned shape {} for a batch of {}; expected (batch, classes)",
               shape_str(logits.shape()), b.data.size(0));
  const std::vector<float> target = b.target.to_vector();
  TINYML_CHECK(static_cast<int64_t>(target.size()) == logits.size(0),
               "evaluate: targets of shape {} do not hold one class index per example",
               shape_str(b.target.shape()));
  const int64_t classes = logits.size(1);
  const float* p = logits.data();
  for (int64_t i = 0; i < logits.size(0); ++i) {
    const float* row = p + i * classes;
    // A row with NaN or Inf has no meaningful argmax: it counts as wrong, and is reported.
    if (!std::all_of(row, row + classes, [](float v) { return std::isfinite(v); })) {
      ++r.non_finite;
      continue;
    }
    const int64_t best = std::max_element(row, row + classes) - row;
    if (static_cast<float>(best) == target[static_cast<size_t>(i)]) ++r.correct;
  }
  r.n += static_cast<size_t>(logits.size(0));
}

}  // namespace

double predict_batches(nn::Module& model, const data::Dataset& dataset, size_t batch, const BatchFn& fn,
                       const char* who) {
  TINYML_CHECK(batch > 0, "{}: batch must be positive, got 0", who);
  TINYML_CHECK(dataset.size() > 0, "{}: the dataset is empty", who);
  nn::ModeGuard mode(model, /*training=*/false);  // the caller's mode comes back, also after a throw
  NoGradGuard no_grad;

  // Batches are materialised first so that the clock sees only the model.
  std::vector<data::Batch> batches;
  for (size_t start = 0; start < dataset.size(); start += batch) {
    std::vector<size_t> idx(std::min(batch, dataset.size() - start));
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = start + i;
    batches.push_back(dataset.get_batch(idx));
  }

  // One untimed forward first: the first call pays one-time costs (kernel JIT, thread start-up,
  // first touch of buffers) that would otherwise dominate a small evaluation.
  (void)model(batches.front().data);

  double forward_s = 0.0;
  for (const data::Batch& b : batches) {
    const auto t0 = std::chrono::steady_clock::now();
    const Tensor logits = model(b.data).contiguous();
    forward_s += seconds_since(t0);
    fn(b, logits);
  }
  return forward_s;
}

EvalResult evaluate(nn::Module& model, const data::Dataset& dataset, size_t batch) {
  EvalResult r;
  const double forward_s = predict_batches(
      model, dataset, batch,
      [&r](const data::Batch& b, const Tensor& logits) { count_correct(logits, b, r); }, "evaluate");
  r.accuracy = static_cast<double>(r.correct) / static_cast<double>(r.n);
  r.ms_per_1000 = forward_s * 1e3 * 1000.0 / static_cast<double>(r.n);
  return r;
}

std::vector<int64_t> confusion_matrix(nn::Module& model, const data::Dataset& dataset, int64_t classes,
                                      size_t batch) {
  TINYML_CHECK(classes > 0 && classes <= 100000, "confusion_matrix: classes must be in [1, 100000], got {}",
               classes);
  std::vector<int64_t> m(static_cast<size_t>(classes * classes), 0);
  predict_batches(
      model, dataset, batch,
      [&](const data::Batch& b, const Tensor& logits) {
        TINYML_CHECK(logits.dim() == 2 && logits.size(0) == b.data.size(0) && logits.size(1) == classes,
                     "confusion_matrix: the model returned shape {} for a batch of {}; expected ({}, {})",
                     shape_str(logits.shape()), b.data.size(0), b.data.size(0), classes);
        const std::vector<float> target = b.target.to_vector();
        TINYML_CHECK(static_cast<int64_t>(target.size()) == logits.size(0),
                     "confusion_matrix: targets of shape {} do not hold one class index per example",
                     shape_str(b.target.shape()));
        for (int64_t i = 0; i < logits.size(0); ++i) {
          const float* row = logits.data() + i * classes;
          TINYML_CHECK(std::all_of(row, row + classes, [](float v) { return std::isfinite(v); }),
                       "confusion_matrix: the model's outputs hold NaN or Inf for an example of this batch");
          const float t = target[static_cast<size_t>(i)];
          TINYML_CHECK(t >= 0.0f && t < static_cast<float>(classes) && t == std::floor(t),
                       "confusion_matrix: target {} is not a class index in [0, {})", t, classes);
          const int64_t p = std::max_element(row, row + classes) - row;
          ++m[static_cast<size_t>(static_cast<int64_t>(t) * classes + p)];
        }
      },
      "confusion_matrix");
  return m;
}

double accuracy(nn::Module& model, const data::Dataset& dataset) { return evaluate(model, dataset).accuracy; }

double accuracy(nn::Module& model, const Tensor& x, const Tensor& targets) {
  TINYML_CHECK(x.dim() >= 1 && targets.dim() >= 1 && x.size(0) == targets.size(0),
               "accuracy: {} examples but targets of shape {}", x.dim() >= 1 ? x.size(0) : 0,
               shape_str(targets.shape()));
  return evaluate(model, data::TensorDataset(x, targets)).accuracy;
}

}  // namespace tinyml::train

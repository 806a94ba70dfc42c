// Measuring a classifier: accuracy over a dataset, with the forward time and non-finite outputs.
#pragma once

#include <cstddef>

#include "tinyml/core/tensor.hpp"
#include "tinyml/data/dataset.hpp"
#include "tinyml/data/epoch.hpp"
#include "tinyml/nn/module.hpp"

namespace tinyml::train {

// The training loop itself is data::train_epoch (tinyml/data/epoch.hpp); its per-step hook is a
// progress bar's.
using Progress = data::StepHook;

struct EvalResult {
  double accuracy = 0.0;  // fraction of the examples whose argmax logit is the target class
  size_t correct = 0;
  size_t n = 0;
  size_t non_finite = 0;  // examples whose outputs hold NaN or Inf (counted as wrong)
  // Forward time only: batches are prepared before the clock starts, after one untimed warm-up forward.
  double ms_per_1000 = 0.0;
};

// Accuracy of `model` on `dataset`, in eval mode and without recording a graph, `batch` examples
// at a time; the first maximal logit is the prediction. The model's training flag is restored
// afterwards. Throws tinyml::Error for batch 0, an empty dataset, or logits that are not
// (batch, classes) with one class index per example in the targets.
EvalResult evaluate(nn::Module& model, const data::Dataset& dataset, size_t batch = 1000);

// evaluate(model, dataset).accuracy.
double accuracy(nn::Module& model, const data::Dataset& dataset);

// The accuracy of `model` on the examples `x` (n, features) with class indices `targets` (n),
// measured as evaluate() does.
double accuracy(nn::Module& model, const Tensor& x, const Tensor& targets);

}  // namespace tinyml::train

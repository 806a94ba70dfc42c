// Measuring a classifier: accuracy over a dataset (with the forward time and non-finite outputs
// counted) and the confusion matrix, on one batched forward pass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

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

// Called by predict_batches with each batch and the model's logits for it (contiguous).
using BatchFn = std::function<void(const data::Batch& batch, const Tensor& logits)>;

// The batched forward pass behind evaluate() and confusion_matrix(): the examples of `dataset` in
// order, `batch` at a time, in eval mode and without recording a graph (the training flag is
// restored afterwards, even when a forward throws). The batches are prepared first and one untimed
// warm-up forward runs before the others, so the returned time is the seconds spent in the model's
// forwards alone. Throws tinyml::Error naming `who` for batch 0 or an empty dataset.
double predict_batches(nn::Module& model, const data::Dataset& dataset, size_t batch, const BatchFn& fn,
                       const char* who = "predict_batches");

// Accuracy of `model` on `dataset`, in eval mode and without recording a graph, `batch` examples
// at a time; the first maximal logit is the prediction. The model's training flag is restored
// afterwards. Throws tinyml::Error for batch 0, an empty dataset, or logits that are not
// (batch, classes) with one class index per example in the targets.
EvalResult evaluate(nn::Module& model, const data::Dataset& dataset, size_t batch = 1000);

// Class counts of `model` on `dataset`, row-major `classes` x `classes`: entry (t, p) counts the
// examples of class t whose first maximal logit is p; batched as evaluate() is. Throws
// tinyml::Error when the logits are not (batch, classes), a target is not a class index below
// `classes`, or an output is NaN or Inf (it has no prediction).
std::vector<int64_t> confusion_matrix(nn::Module& model, const data::Dataset& dataset, int64_t classes,
                                      size_t batch = 1000);

// evaluate(model, dataset).accuracy.
double accuracy(nn::Module& model, const data::Dataset& dataset);

// The accuracy of `model` on the examples `x` (n, features) with class indices `targets` (n),
// measured as evaluate() does.
double accuracy(nn::Module& model, const Tensor& x, const Tensor& targets);

}  // namespace tinyml::train

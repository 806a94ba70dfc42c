// The training loop of a classifier: one epoch of minibatch steps, an evaluation pass, accuracy.
#pragma once

#include <cstddef>
#include <functional>

#include "tinyml/core/tensor.hpp"
#include "tinyml/data/dataloader.hpp"
#include "tinyml/nn/module.hpp"
#include "tinyml/optim/optimizer.hpp"

namespace tinyml::data {

// What one pass over a loader measured: the mean cross-entropy loss per example, the share of
// examples classified right, and how many examples were seen.
struct EpochResult {
  double loss = 0.0;
  double accuracy = 0.0;
  size_t examples = 0;
};

// The share of rows of `logits` (N, C) whose largest entry sits at the class `targets` (N) holds
// (the first maximum wins a tie). Throws for shapes that do not fit or N = 0.
double accuracy(const Tensor& logits, const Tensor& targets);

// Called after each step of an epoch with the steps done, the steps of the epoch (loader.size())
// and the mean loss so far (examples weighted equally): a progress bar's hook.
using StepHook = std::function<void(size_t step, size_t steps, double mean_loss)>;

// One epoch of classifier training in train mode: for each batch of `loader`, zero the gradients,
// the cross-entropy of the model's logits against the batch's class indices, backward, one
// optimizer step, then `after_step` when set. Returns the mean loss and accuracy of the batches as
// they were trained on (each counted before its step). The model's mode is restored afterwards.
// Throws if the loader has no batch, or when a loss is not finite (naming the step, before its
// update: a NaN loss would turn every weight it reaches into NaN), or when the last step left a
// parameter NaN or infinite (naming it).
EpochResult train_epoch(nn::Module& model, optim::Optimizer& optimizer, DataLoader& loader,
                        const StepHook& after_step = {});

// The model over every batch of `loader` in eval mode without recording a graph: mean
// cross-entropy loss and accuracy. The model's train/eval mode is restored afterwards.
EpochResult evaluate(nn::Module& model, DataLoader& loader);

}  // namespace tinyml::data

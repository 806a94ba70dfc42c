// The training loop of a classifier: one epoch of minibatch steps, an evaluation pass, accuracy.
#pragma once

#include <cstddef>

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

// One epoch of classifier training in train mode: for each batch of `loader`, zero the gradients,
// the cross-entropy of the model's logits against the batch's class indices, backward, one
// optimizer step. Returns the mean loss and accuracy of the batches as they were trained on
// (each counted before its step). Throws if the loader has no batch or a loss is not finite.
EpochResult train_epoch(nn::Module& model, optim::Optimizer& optimizer, DataLoader& loader);

// The model over every batch of `loader` in eval mode without recording a graph: mean
// cross-entropy loss and accuracy. The model's train/eval mode is restored afterwards.
EpochResult evaluate(nn::Module& model, DataLoader& loader);

}  // namespace tinyml::data

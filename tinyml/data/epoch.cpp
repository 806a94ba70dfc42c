// The training loop of a classifier (module 06 of the course): train_epoch, evaluate, accuracy.
#include "tinyml/data/epoch.hpp"

#include <algorithm>
#include <cmath>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/ops/ops.hpp"

namespace tinyml::data {

namespace {

EpochResult finish(double loss_sum, double correct, size_t examples, const DataLoader& loader,
                   const char* fn) {
  TINYML_CHECK(examples > 0,
               "{}: the loader gave no batches (dataset of {} examples, batch {}, drop_last {})", fn,
               loader.dataset().size(), loader.options().batch_size, loader.options().drop_last);
  const auto n = static_cast<double>(examples);
  return {loss_sum / n, correct / n, examples};
}

// The loss is checked before each step, so only the last step's update can leave a parameter
// NaN or infinite unseen: checked once per epoch, so that no caller saves such a model.
void check_parameters_finite(nn::Module& model, size_t steps) {
  for (const auto& [name, p] : model.named_parameters()) {
    const Tensor c = p.contiguous();
    const float* x = c.data();
    const auto bad = std::find_if(x, x + c.numel(), [](float v) { return !std::isfinite(v); });
    TINYML_CHECK(bad == x + c.numel(),
                 "train_epoch: after the last of {} steps, parameter '{}' holds {}; training stopped (a "
                 "learning rate too high for the data, or non-finite inputs)",
                 steps, name, *bad);
  }
}

}  // namespace

double accuracy(const Tensor& logits, const Tensor& targets) {
  TINYML_CHECK(logits.defined() && targets.defined(), "accuracy: undefined logits or targets");
  TINYML_CHECK(logits.dim() == 2 && logits.size(0) > 0 && logits.size(1) > 0,
               "accuracy: logits must be (N, C) with N, C > 0, got shape {}", shape_str(logits.shape()));
  TINYML_CHECK(targets.dim() == 1 && targets.size(0) == logits.size(0),
               "accuracy: targets must be (N) = ({}) class indices, got shape {}", logits.size(0),
               shape_str(targets.shape()));
  // BEGIN SOLUTION 06: accuracy: the share of rows whose argmax is the target class
  NoGradGuard no_grad;
  return static_cast<double>(eq(argmax(logits, 1), targets).mean().item());
  // END SOLUTION
}

EpochResult train_epoch(nn::Module& model, optim::Optimizer& optimizer, DataLoader& loader,
                        const StepHook& after_step) {
  nn::ModeGuard mode(model, /*training=*/true);
  double loss_sum = 0.0, correct = 0.0;
  size_t examples = 0, step = 0;
  const size_t steps = loader.size();
  for (const Batch& batch : loader) {
    const auto n = static_cast<size_t>(batch.target.size(0));
    // BEGIN SOLUTION 06: train_epoch: zero_grad, cross-entropy of the model's logits, backward, step
    optimizer.zero_grad();
    const Tensor logits = model(batch.data);
    const Tensor loss = cross_entropy(logits, batch.target);
    const double value = loss.item();
    TINYML_CHECK(std::isfinite(value),
                 "train_epoch: the loss is {} at step {} of {}; training stopped (a learning rate too high "
                 "for the data, or non-finite inputs)",
                 value, step + 1, steps);
    loss.backward();
    optimizer.step();
    loss_sum += value * static_cast<double>(n);
    correct += accuracy(logits.detach(), batch.target) * static_cast<double>(n);
    // END SOLUTION
    examples += n;
    ++step;
    if (after_step) after_step(step, steps, loss_sum / static_cast<double>(examples));
  }
  check_parameters_finite(model, step);
  return finish(loss_sum, correct, examples, loader, "train_epoch");
}

EpochResult evaluate(nn::Module& model, DataLoader& loader) {
  nn::ModeGuard mode(model, /*training=*/false);
  double loss_sum = 0.0, correct = 0.0;
  size_t examples = 0;
  // BEGIN SOLUTION 06: evaluate: eval mode, no graph; sum loss and hits per example over every batch
  NoGradGuard no_grad;
  for (const Batch& batch : loader) {
    const Tensor logits = model(batch.data);
    const auto n = static_cast<size_t>(batch.target.size(0));
    loss_sum += static_cast<double>(cross_entropy(logits, batch.target).item()) * static_cast<double>(n);
    correct += accuracy(logits, batch.target) * static_cast<double>(n);
    examples += n;
  }
  // END SOLUTION
  return finish(loss_sum, correct, examples, loader, "evaluate");
}

}  // namespace tinyml::data

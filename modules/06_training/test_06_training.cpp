// Module 06 step tests: DataLoader (batches, seeded shuffling, epochs) and the training loop end to end.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <vector>

#include "course_test.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/data/data.hpp"
#include "tinyml/data/epoch.hpp"
#include "tinyml/nn/nn.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/optim/optim.hpp"
#include "tinyml/train/train.hpp"

using namespace tinyml;
using namespace tinyml::data;
using V = std::vector<float>;

namespace {

// Example i has data [i, 10·i] and target i, so a batch shows which examples it holds.
std::shared_ptr<TensorDataset> numbered(int64_t n) {
  const Tensor idx = Tensor::arange(static_cast<float>(n));
  return std::make_shared<TensorDataset>(stack({idx, idx * 10.0f}, 1), idx);
}

std::vector<V> targets_per_batch(DataLoader& loader) {
  std::vector<V> out;
  for (const Batch& b : loader) out.push_back(b.target.to_vector());
  return out;
}

bool is_permutation_of_range(std::vector<size_t> v) {
  std::sort(v.begin(), v.end());
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] != i) return false;
  return true;
}

// An optimizer that records what each step saw: the number of steps and, per step, the gradient
// norm of the parameters (0 when a gradient is missing). It updates nothing.
class RecordingOptimizer : public optim::Optimizer {
 public:
  explicit RecordingOptimizer(std::vector<Tensor> params) : Optimizer(std::move(params), 0.0) {}
  void step() override {
    double sq = 0.0;
    for (size_t i = 0; i < params_.size(); ++i)
      if (const Tensor g = grad_of(i, "RecordingOptimizer"); g.defined()) sq += (g * g).sum().item();
    grad_norms.push_back(std::sqrt(sq));
  }
  std::vector<double> grad_norms;
};

std::shared_ptr<nn::Sequential> small_mlp(Generator& gen) {
  return std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(2, 8, true, gen),
                                          std::make_shared<nn::ReLU>(),
                                          std::make_shared<nn::Linear>(8, 3, true, gen));
}

}  // namespace

// ---- DataLoader ----

TEST(DataLoader, CountsBatches) {
  EXPECT_EQ(DataLoader(numbered(10), {.batch_size = 3}).size(), 4u);  // 3 + 3 + 3 + 1
  EXPECT_EQ(DataLoader(numbered(10), {.batch_size = 3, .drop_last = true}).size(), 3u);
  EXPECT_EQ(DataLoader(numbered(9), {.batch_size = 3}).size(), 3u);
  EXPECT_EQ(DataLoader(numbered(2), {.batch_size = 5}).size(), 1u);
  EXPECT_EQ(DataLoader(numbered(2), {.batch_size = 5, .drop_last = true}).size(), 0u);
}

TEST(DataLoader, BatchesInOrderWithoutShuffle) {
  DataLoader loader(numbered(7), {.batch_size = 3});
  EXPECT_THAT(targets_per_batch(loader), ::testing::ElementsAre(V{0, 1, 2}, V{3, 4, 5}, V{6}));
  size_t seen = 0;
  for (const Batch& b : loader) {
    EXPECT_EQ(b.data.dim(), 2);
    EXPECT_EQ(b.data.size(1), 2);
    EXPECT_FLOAT_EQ(b.data.at({0, 1}), 10.0f * b.target.at({0}));  // data and target stay paired
    ++seen;
  }
  EXPECT_EQ(seen, 3u);
}

TEST(DataLoader, DropLastDropsOnlyAShortFinalBatch) {
  DataLoader loader(numbered(7), {.batch_size = 3, .drop_last = true});
  EXPECT_THAT(targets_per_batch(loader), ::testing::ElementsAre(V{0, 1, 2}, V{3, 4, 5}));
  DataLoader exact(numbered(6), {.batch_size = 3, .drop_last = true});
  EXPECT_EQ(targets_per_batch(exact).size(), 2u);
}

TEST(DataLoader, OrderWithoutShuffleIsTheIdentity) {
  const DataLoader loader(numbered(5), {.batch_size = 2});
  EXPECT_THAT(loader.order(0), ::testing::ElementsAre(0u, 1u, 2u, 3u, 4u));
  EXPECT_THAT(loader.order(7), ::testing::ElementsAre(0u, 1u, 2u, 3u, 4u));
}

TEST(DataLoader, ShuffleIsASeededPermutationPerEpoch) {
  const DataLoader a(numbered(50), {.batch_size = 8, .shuffle = true, .seed = 1});
  const DataLoader b(numbered(50), {.batch_size = 8, .shuffle = true, .seed = 1});
  const DataLoader c(numbered(50), {.batch_size = 8, .shuffle = true, .seed = 2});
  EXPECT_TRUE(is_permutation_of_range(a.order(0)));
  EXPECT_EQ(a.order(0), b.order(0));  // reproducible
  EXPECT_EQ(a.order(3), a.order(3));
  EXPECT_NE(a.order(0), a.order(1));  // a new order every epoch
  EXPECT_NE(a.order(0), c.order(0));  // and per seed
  std::vector<size_t> identity(50);
  std::iota(identity.begin(), identity.end(), size_t{0});
  EXPECT_NE(a.order(0), identity);
}

TEST(DataLoader, ShuffleIsUniformOverPermutations) {
  // Every ordering of 3 examples must be equally likely (Fisher–Yates). The classic mistake,
  // swapping position i with a random index of the whole range, makes some orderings 5/27 likely
  // and others 4/27. Over 60 000 epochs each count is 10 000 ± 91 (one sigma); ±460 is five sigma
  // (the generator is seeded, so the result is fixed), while 5/27 and 4/27 give 11 111 and 8 889.
  const DataLoader loader(numbered(3), {.batch_size = 3, .shuffle = true, .seed = 11});
  std::map<std::vector<size_t>, int> counts;
  for (uint64_t e = 0; e < 60000; ++e) ++counts[loader.order(e)];
  ASSERT_EQ(counts.size(), 6u);
  for (const auto& [perm, n] : counts) EXPECT_NEAR(n, 10000, 460) << perm[0] << perm[1] << perm[2];
}

TEST(DataLoader, EachPassUsesTheNextEpoch) {
  DataLoader loader(numbered(20), {.batch_size = 20, .shuffle = true, .seed = 5});
  const auto first = targets_per_batch(loader);
  const auto second = targets_per_batch(loader);
  EXPECT_NE(first, second);
  EXPECT_EQ(loader.epoch(), 2u);
  loader.set_epoch(0);
  EXPECT_EQ(targets_per_batch(loader), first);  // resuming at epoch 0 replays it
  V sorted = first[0];
  std::sort(sorted.begin(), sorted.end());
  V all(20);
  std::iota(all.begin(), all.end(), 0.0f);
  EXPECT_EQ(sorted, all);  // every example exactly once per pass
}

TEST(DataLoader, RejectsAZeroBatchSize) {
  EXPECT_TINYML_ERROR(DataLoader(numbered(4), {.batch_size = 0}), "DataLoader", "batch_size");
  DataLoader ok(numbered(4), {.batch_size = 4});
  EXPECT_EQ(targets_per_batch(ok).size(), 1u);
}

// ---- the training loop ----

TEST(Training, LearnsBlobsWithShuffledMinibatches) {
  Generator gen(8);
  auto train = std::make_shared<TensorDataset>(blobs(600, 4, 2, 1.0f, gen));
  auto model = train::make_mlp({2, 16, 4}, gen);
  optim::Adam opt(model->parameters(), {.lr = 0.02});
  DataLoader loader(train, {.batch_size = 32, .shuffle = true, .seed = 8});
  const nn::CrossEntropyLoss loss_fn;
  for (int epoch = 0; epoch < 15; ++epoch)
    for (const Batch& b : loader) {  // the step of train_epoch, written out: these tests check the loader
      opt.zero_grad();
      loss_fn((*model)(b.data), b.target).backward();
      opt.step();
    }
  // Four well-separated Gaussian blobs (centres in [−10, 10]², σ = 1): near-perfectly separable.
  EXPECT_GT(train::accuracy(*model, train->data(), train->targets()), 0.95);
}

TEST(Training, FashionMNISTSubset) {
  ASSERT_TRUE(FashionMNIST::available())
      << "Fashion-MNIST not found in " << FashionMNIST::default_root()
      << ": install the dataset-fashion-mnist package or set TINYML_FASHION_MNIST_DIR";
  auto train = std::make_shared<FashionMNIST>(FashionMNIST::default_root(), true, 4000);
  const FashionMNIST test(FashionMNIST::default_root(), false, 1000);
  Generator gen(0);
  auto model = train::make_mlp({784, 64, 10}, gen);
  optim::Adam opt(model->parameters(), {.lr = 2e-3});
  DataLoader loader(train, {.batch_size = 64, .shuffle = true, .seed = 0});
  const nn::CrossEntropyLoss loss_fn;
  for (int epoch = 0; epoch < 3; ++epoch)
    for (const Batch& b : loader) {  // the step of train_epoch, written out: these tests check the loader
      opt.zero_grad();
      loss_fn((*model)(b.data), b.target).backward();
      opt.step();
    }
  std::vector<size_t> all(test.size());
  std::iota(all.begin(), all.end(), size_t{0});
  const Batch t = test.get_batch(all);
  // 4 000 images and 3 epochs reach about 80 % (the full set and 5 epochs give ~88 %); chance is
  // 10 %. 70 % leaves room for any correct implementation's different random draws.
  EXPECT_GT(train::accuracy(*model, t.data, t.target), 0.70);
}

// ---- train_epoch, evaluate, accuracy ----

TEST(TrainingLoop, AccuracyCountsRowsWhoseArgmaxIsTheTarget) {
  // Row by row (hand-counted): argmax 1 (target 1, hit), 2 (target 0, miss), 0 (a tie of rows 0
  // and 1: the first wins; target 0, hit), 1 (target 2, miss): 2 of 4.
  const Tensor logits = Tensor::from_vector({0, 5, 1, 2, 1, 3, 4, 4, 0, -1, 2, 1}, {4, 3});
  const Tensor targets = Tensor::from_vector({1, 0, 0, 2}, {4});
  EXPECT_DOUBLE_EQ(data::accuracy(logits, targets), 0.5);
  EXPECT_DOUBLE_EQ(data::accuracy(logits, Tensor::from_vector({1, 2, 0, 1}, {4})), 1.0);
}

TEST(TrainingLoop, TrainEpochStepsOncePerBatchWithFreshGradients) {
  Generator gen(3);
  auto model = small_mlp(gen);
  RecordingOptimizer opt(model->parameters());
  auto set = std::make_shared<TensorDataset>(blobs(50, 3, 2, 1.0f, gen));
  DataLoader loader(set, {.batch_size = 16});  // 16, 16, 16 and a short 2
  const EpochResult r = train_epoch(*model, opt, loader);
  EXPECT_EQ(r.examples, 50u);
  ASSERT_EQ(opt.grad_norms.size(), 4u) << "one optimizer step per batch";
  // The optimizer changes nothing, so every step sees one batch's gradient: zero_grad was called
  // (accumulating would make the norms grow: 1, 2, 3 batches' worth).
  for (double n : opt.grad_norms) EXPECT_GT(n, 0.0);
  model->zero_grad();
  DataLoader first(set, {.batch_size = 16});
  const Batch b = *first.begin();
  cross_entropy((*model)(b.data), b.target).backward();
  double sq = 0.0;
  for (const Tensor& p : model->parameters()) sq += (p.grad() * p.grad()).sum().item();
  EXPECT_NEAR(opt.grad_norms[0], std::sqrt(sq), 1e-5 * std::sqrt(sq))
      << "the first step saw the first batch's gradient";
}

TEST(TrainingLoop, TrainEpochReportsTheMeanLossPerExampleBeforeEachStep) {
  Generator gen(4);
  auto model = small_mlp(gen);
  RecordingOptimizer opt(model->parameters());  // no update: every batch sees the same model
  auto set = std::make_shared<TensorDataset>(blobs(20, 3, 2, 1.0f, gen));
  DataLoader loader(set, {.batch_size = 7});  // 7, 7, 6: the mean must weight batches by size
  model->eval();
  const EpochResult r = train_epoch(*model, opt, loader);
  EXPECT_FALSE(model->is_training()) << "train_epoch must restore the model's mode";
  NoGradGuard no_grad;
  const Tensor logits = (*model)(set->data());
  EXPECT_NEAR(r.loss, cross_entropy(logits, set->targets()).item(), 1e-5);
  // accuracy() is a float mean of at most 30 zeros and ones: exact counts, rounded once or twice
  // per batch to float (relative 2^-24 each), so 1e-6 leaves room.
  EXPECT_NEAR(r.accuracy, data::accuracy(logits, set->targets()), 1e-6);
}

TEST(TrainingLoop, EvaluateIsTheWholeSetsLossAndAccuracyWithoutAGraph) {
  Generator gen(5);
  auto model = small_mlp(gen);
  auto set = std::make_shared<TensorDataset>(blobs(30, 3, 2, 1.0f, gen));
  DataLoader loader(set, {.batch_size = 8});  // 8, 8, 8, 6
  const std::vector<float> before = model->parameters()[0].to_vector();
  const EpochResult r = evaluate(*model, loader);
  EXPECT_TRUE(model->is_training()) << "evaluate must restore the model's mode";
  EXPECT_EQ(r.examples, 30u);
  for (const Tensor& p : model->parameters())
    EXPECT_FALSE(p.grad().defined()) << "evaluate must not backprop";
  EXPECT_EQ(model->parameters()[0].to_vector(), before);
  NoGradGuard no_grad;
  model->eval();
  const Tensor logits = (*model)(set->data());
  EXPECT_NEAR(r.loss, cross_entropy(logits, set->targets()).item(), 1e-5);
  // accuracy() is a float mean of at most 30 zeros and ones: exact counts, rounded once or twice
  // per batch to float (relative 2^-24 each), so 1e-6 leaves room.
  EXPECT_NEAR(r.accuracy, data::accuracy(logits, set->targets()), 1e-6);
}

TEST(TrainingLoop, ThreeEpochsLearnBlobs) {
  Generator gen(6);
  auto model = small_mlp(gen);
  optim::Adam opt(model->parameters(), {.lr = 0.03});
  auto set = std::make_shared<TensorDataset>(blobs(300, 3, 2, 1.0f, gen));
  DataLoader loader(set, {.batch_size = 32, .shuffle = true, .seed = 6});
  EpochResult first{}, last{};
  for (int epoch = 0; epoch < 3; ++epoch) {
    last = train_epoch(*model, opt, loader);
    if (epoch == 0) first = last;
  }
  EXPECT_LT(last.loss, first.loss);
  // Three well-separated Gaussian blobs (centres in [-10, 10]^2, sigma 1): near-perfectly separable.
  DataLoader all(set, {.batch_size = 300});
  EXPECT_GT(evaluate(*model, all).accuracy, 0.95);
}

// Tests for the training layer (tinyml/train): MLPs by size, the epoch loop, accuracy, datasets by
// name and models rebuilt from files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "tests/support/errors.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/data/dataloader.hpp"
#include "tinyml/data/dataset.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/io/model_io.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/loss.hpp"
#include "tinyml/train/train.hpp"

using namespace tinyml;
using namespace tinyml::train;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

using tinyml_test::error_of;

fs::path temp_file(const std::string& stem) {
  return fs::temp_directory_path() / ("tinyml_test_train_" + std::to_string(getpid()) + "_" + stem);
}

// A fixed (2 → 2) model whose logits are its inputs: the prediction is the larger input.
std::shared_ptr<nn::Linear> identity_classifier() {
  Generator gen(0);
  auto lin = std::make_shared<nn::Linear>(2, 2, true, gen);
  NoGradGuard no_grad;
  lin->weight.copy_(Tensor::from_vector({1, 0, 0, 1}, {2, 2}));
  lin->bias.copy_(Tensor::from_vector({0, 0}, {2}));
  return lin;
}

}  // namespace

TEST(Arch, ParsesAndPrintsBack) {
  EXPECT_EQ(parse_arch("784-256-128-10"), (std::vector<int64_t>{784, 256, 128, 10}));
  EXPECT_EQ(arch_string({2, 8, 2}), "2-8-2");
  EXPECT_EQ(parse_arch(arch_string({3, 1})), (std::vector<int64_t>{3, 1}));
}

TEST(Arch, RejectsBadTextWithTheItem) {
  EXPECT_THAT(error_of([] { parse_arch("784"); }), HasSubstr("needs at least two sizes"));
  EXPECT_THAT(error_of([] { parse_arch("784--10"); }), HasSubstr("'' is not a positive integer"));
  EXPECT_THAT(error_of([] { parse_arch("784-0-10"); }), HasSubstr("'0' is not a positive integer"));
  EXPECT_THAT(error_of([] { parse_arch("2-x-2"); }), HasSubstr("'x'"));
  EXPECT_THAT(error_of([] { parse_arch("2-2000000-2"); }), HasSubstr("exceeds the limit"));
  // 2047 hidden layers make 4096 modules with the Sequential, what a model file holds; 2048 do not.
  const auto deep = [](int hidden) {
    std::string a = "2";
    for (int i = 0; i < hidden; ++i) a += "-8";
    return a + "-2";
  };
  EXPECT_EQ(parse_arch(deep(2047)).size(), 2049u);
  EXPECT_THAT(error_of([&] { parse_arch(deep(2048)); }),
              HasSubstr("2049 layers make 4098 modules, more than a model file holds (4096)"));
  // Each size is allowed, the whole is 2.1 billion parameters.
  EXPECT_THAT(error_of([] { parse_arch("2-46341-46341-2"); }),
              HasSubstr("2147766329 parameters exceed the limit of 134217728"));
}

TEST(MakeMlp, LinearLayersWithReluBetween) {
  Generator gen(0);
  auto mlp = make_mlp({4, 8, 3}, gen);
  ASSERT_EQ(mlp->size(), 3u);  // Linear, ReLU, Linear: no activation after the logits
  EXPECT_EQ((*mlp)[0]->type_name(), "Linear");
  EXPECT_EQ((*mlp)[1]->type_name(), "ReLU");
  EXPECT_EQ((*mlp)[2]->type_name(), "Linear");
  const auto sd = mlp->state_dict();
  EXPECT_EQ(sd.at("0.weight").shape(), (Shape{8, 4}));
  EXPECT_EQ(sd.at("2.bias").shape(), (Shape{3}));
  EXPECT_THAT(error_of([&] { make_mlp({4}, gen); }), HasSubstr("at least two layer sizes"));
  EXPECT_THAT(error_of([&] { make_mlp({4, 0, 2}, gen); }), HasSubstr("must be positive"));
}

TEST(Accuracy, CountsTheArgmaxAgainstHandLabels) {
  auto model = identity_classifier();
  // Predictions 1, 0, 1, 1 (the larger input); labels 1, 0, 0, 1 → 3 of 4 right.
  const Tensor x = Tensor::from_vector({0, 1, 5, 2, -1, 3, 7, 7.5f}, {4, 2});
  const Tensor y = Tensor::from_vector({1, 0, 0, 1}, {4});
  EXPECT_DOUBLE_EQ(accuracy(*model, x, y), 0.75);
  const data::TensorDataset set(x, y);
  const EvalResult r = evaluate(*model, set, /*batch=*/3);  // two batches: 3 + 1
  EXPECT_EQ(r.correct, 3u);
  EXPECT_EQ(r.n, 4u);
  EXPECT_DOUBLE_EQ(r.accuracy, accuracy(*model, set));
}

TEST(Accuracy, RestoresTheTrainingFlagAndChecksItsInput) {
  auto model = identity_classifier();
  model->train();
  const data::TensorDataset set(Tensor::from_vector({0, 1}, {1, 2}), Tensor::from_vector({1}, {1}));
  (void)evaluate(*model, set);
  EXPECT_TRUE(model->is_training());
  EXPECT_THAT(error_of([&] { evaluate(*model, set, 0); }), HasSubstr("batch must be positive"));
  EXPECT_THAT(error_of([&] {
                accuracy(*model, Tensor::from_vector({0, 1}, {1, 2}), Tensor::from_vector({1, 0}, {2}));
              }),
              HasSubstr("1 examples but targets of shape [2]"));
}

TEST(ConfusionMatrix, CountsTrueAgainstPredictedClassesAcrossBatches) {
  auto model = identity_classifier();
  // The same hand-labelled examples as above: predictions 1, 0, 1, 1, labels 1, 0, 0, 1. Row t
  // column p counts label t predicted as p: (0, 0) = 1, (0, 1) = 1, (1, 1) = 2.
  const data::TensorDataset set(Tensor::from_vector({0, 1, 5, 2, -1, 3, 7, 7.5f}, {4, 2}),
                                Tensor::from_vector({1, 0, 0, 1}, {4}));
  model->train();
  EXPECT_EQ(confusion_matrix(*model, set, 2, /*batch=*/3), (std::vector<int64_t>{1, 1, 0, 2}));
  EXPECT_TRUE(model->is_training());
  EXPECT_THAT(error_of([&] { confusion_matrix(*model, set, 3); }), HasSubstr("expected (4, 3)"));
  const data::TensorDataset bad(Tensor::from_vector({0, 1}, {1, 2}), Tensor::from_vector({2}, {1}));
  EXPECT_THAT(error_of([&] { confusion_matrix(*model, bad, 2); }),
              HasSubstr("target 2 is not a class index in [0, 2)"));
  const data::TensorDataset nan(Tensor::from_vector({0, std::nanf("")}, {1, 2}),
                                Tensor::from_vector({1}, {1}));
  EXPECT_THAT(error_of([&] { confusion_matrix(*model, nan, 2); }), HasSubstr("NaN or Inf"));
  EXPECT_THAT(error_of([&] { confusion_matrix(*model, set, 2, 0); }),
              HasSubstr("confusion_matrix: batch must be positive"));
}

TEST(TrainEpoch, LearnsSpiralsAndReportsEveryStep) {
  const DataSplits d = load_dataset("spirals", /*train=*/true);
  Generator gen(0);
  auto model = make_mlp(parse_arch(d.default_arch), gen);
  auto opt = make_optimizer("adam", model->parameters(), 0.01, 0.0);
  data::DataLoader loader(d.train, {.batch_size = 64, .shuffle = true, .seed = 0});
  std::vector<size_t> steps;
  double last_reported = 0.0;
  double first = 0.0;
  double last = 0.0;
  for (int epoch = 0; epoch < 30; ++epoch) {
    steps.clear();
    last = data::train_epoch(*model, *opt, loader, [&](size_t step, size_t total, double mean) {
             EXPECT_EQ(total, loader.size());
             steps.push_back(step);
             last_reported = mean;
           }).loss;
    if (epoch == 0) first = last;
  }
  ASSERT_EQ(steps.size(), loader.size());
  EXPECT_EQ(steps.front(), 1u);
  EXPECT_EQ(steps.back(), loader.size());
  EXPECT_DOUBLE_EQ(last_reported, last);  // the last report is the epoch's mean loss
  EXPECT_LT(last, 0.5 * first);
  // Three spirals are far from linearly separable (a linear model scores ~50 %): 90 % needs the
  // hidden layers to have learnt.
  EXPECT_GT(accuracy(*model, *d.test), 0.9);
}

TEST(TrainEpoch, AnEmptyLoaderIsAnError) {
  auto model = identity_classifier();
  auto opt = make_optimizer("sgd", model->parameters(), 0.1, 0.0);
  auto set = std::make_shared<data::TensorDataset>(Tensor::from_vector({0, 1}, {1, 2}),
                                                   Tensor::from_vector({1}, {1}));
  data::DataLoader loader(set, {.batch_size = 2, .drop_last = true});
  EXPECT_THAT(error_of([&] { data::train_epoch(*model, *opt, loader); }),
              HasSubstr("the loader gave no batches (dataset of 1 examples, batch 2, drop_last true)"));
}

TEST(TrainEpoch, ANonFiniteLossStopsBeforeItsUpdate) {
  auto model = identity_classifier();
  auto opt = make_optimizer("sgd", model->parameters(), 0.1, 0.0);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Two batches of one example: the first is fine, the second's input is NaN.
  auto set = std::make_shared<data::TensorDataset>(Tensor::from_vector({0, 1, nan, 1}, {2, 2}),
                                                   Tensor::from_vector({1, 0}, {2}));
  data::DataLoader loader(set, {.batch_size = 1});
  std::vector<float> after_first;
  const auto hook = [&](size_t step, size_t, double) {
    if (step == 1) after_first = model->weight.to_vector();
  };
  EXPECT_THAT(error_of([&] { data::train_epoch(*model, *opt, loader, hook); }),
              HasSubstr("train_epoch: the loss is nan at step 2 of 2; training stopped"));
  EXPECT_EQ(model->weight.to_vector(), after_first);  // the NaN step changed nothing
}

TEST(TrainEpoch, ALastStepThatLeavesAParameterNonFiniteIsAnError) {
  // The loss of the only step is finite; its update (0.5 * 1e10 * 1e30) overflows the weight. A
  // command would otherwise save such a model with status 0.
  auto model = identity_classifier();
  auto opt = make_optimizer("sgd", model->parameters(), 1e30, 0.0);
  auto set = std::make_shared<data::TensorDataset>(Tensor::from_vector({1e10f, 0}, {1, 2}),
                                                   Tensor::from_vector({1}, {1}));
  data::DataLoader loader(set, {.batch_size = 1});
  const std::string e = error_of([&] { data::train_epoch(*model, *opt, loader); });
  EXPECT_THAT(e, HasSubstr("train_epoch: after the last of 1 steps, parameter 'weight' holds "));
  EXPECT_THAT(e, HasSubstr("training stopped"));
}

TEST(Optimizers, ByName) {
  auto model = identity_classifier();
  EXPECT_NE(make_optimizer("adam", model->parameters(), 1e-3, 0.0), nullptr);
  EXPECT_NE(make_optimizer("sgd", model->parameters(), 1e-3, 0.9), nullptr);
  EXPECT_THAT(error_of([&] { make_optimizer("lbfgs", model->parameters(), 1e-3, 0.0); }),
              HasSubstr("unknown optimizer 'lbfgs'"));
}

TEST(Datasets, ByNameWithLimitsAndArchChecks) {
  const DataSplits x = load_dataset("xor", /*train=*/true);
  EXPECT_EQ(x.train->size(), 4u);
  EXPECT_EQ(x.features, 2);
  EXPECT_EQ(x.classes, 2);
  const DataSplits s = load_dataset("spirals", /*train=*/false, std::nullopt, 30);
  EXPECT_EQ(s.train, nullptr);
  ASSERT_EQ(s.test->size(), 30u);
  // Evenly spaced over a class-major set: all three classes stay.
  const data::Batch b = s.test->get_batch(std::vector<size_t>{0, 15, 29});
  EXPECT_EQ(b.target.to_vector(), (std::vector<float>{0, 1, 2}));
  EXPECT_THAT(error_of([] { load_dataset("mnist", false); }), HasSubstr("unknown dataset 'mnist'"));
  EXPECT_THAT(error_of([] { load_dataset("xor", false, std::nullopt, 0); }), HasSubstr("must be positive"));
  EXPECT_NO_THROW(check_arch_fits({2, 8, 2}, x, "--arch"));
  EXPECT_THAT(error_of([&] {
                check_arch_fits({3, 8, 2}, x, "--arch");
              }),
              HasSubstr("--arch 3-8-2 does not fit dataset 'xor'"));
}

TEST(Datasets, CalibrationBatchesAreASeededSample) {
  const DataSplits s = load_dataset("spirals", /*train=*/true);
  const auto a = calibration_batches(s.train, 3, 50, 7);
  const auto b = calibration_batches(s.train, 3, 50, 7);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].shape(), (Shape{50, 2}));
  EXPECT_EQ(a[2].to_vector(), b[2].to_vector());
  EXPECT_NE(a[0].to_vector(), calibration_batches(s.train, 1, 50, 8)[0].to_vector());
  EXPECT_EQ(calibration_batches(s.train, 100, 1000, 0).size(), 2u);  // 1500 examples: 2 batches
}

TEST(ModelLoader, RebuildsWholeModelsAndMlpStateDicts) {
  Generator gen(3);
  auto mlp = make_mlp({2, 5, 3}, gen);
  const Tensor x = Tensor::randn({4, 2}, gen);
  const std::vector<float> want = (*mlp)(x).to_vector();

  const fs::path whole = temp_file("whole.safetensors");
  io::save_model(*mlp, whole.string(), model_metadata({2, 5, 3}, "spirals"));
  LoadedModel a;
  auto seq = load_sequential(whole.string(), "test", &a);
  EXPECT_EQ(a.arch, (std::vector<int64_t>{2, 5, 3}));
  EXPECT_EQ(a.dataset, "spirals");
  EXPECT_EQ((*seq)(x).to_vector(), want);

  const fs::path dict = temp_file("dict.safetensors");
  io::save_state_dict(mlp->state_dict(), dict.string(), model_metadata({2, 5, 3}, "spirals"));
  EXPECT_EQ((*load_model_file(dict.string()).model)(x).to_vector(), want);

  io::save_state_dict(mlp->state_dict(), dict.string(), {});
  EXPECT_THAT(error_of([&] { load_model_file(dict.string()); }),
              HasSubstr("neither a module tree nor an 'arch'"));
  EXPECT_THAT(error_of([&] { load_model_file((dict.string() + ".missing")); }), HasSubstr("does not exist"));
  fs::remove(whole);
  fs::remove(dict);
}

#include "tinyml/train/datasets.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <utility>

#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/data/dataloader.hpp"
#include "tinyml/data/fashion_mnist.hpp"
#include "tinyml/data/synthetic.hpp"
#include "tinyml/train/mlp.hpp"

namespace tinyml::train {

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names{"fashion-mnist", "xor", "spirals"};
  return names;
}

namespace {

// Fixed seeds and sizes of the synthetic sets: the data must not depend on a training seed, or a
// saved model would be evaluated on other points than it was trained and tested on.
constexpr uint64_t kSpiralsTrainSeed = 1;
constexpr uint64_t kSpiralsTestSeed = 2;
constexpr int64_t kSpiralsTrainPerClass = 500;
constexpr int64_t kSpiralsTestPerClass = 200;
constexpr int64_t kSpiralsClasses = 3;
constexpr float kSpiralsNoise = 0.2f;

// At most `limit` examples of `full`, evenly spaced so that every class of a class-major set stays.
std::shared_ptr<const data::Dataset> take(std::shared_ptr<const data::Dataset> full,
                                          std::optional<size_t> limit, const char* what) {
  if (!limit.has_value()) return full;
  TINYML_CHECK(*limit > 0, "{}: the limit must be positive, got 0", what);
  const size_t n = full->size();
  if (*limit >= n) return full;
  std::vector<size_t> idx(*limit);
  for (size_t i = 0; i < *limit; ++i) idx[i] = i * n / *limit;
  data::Batch b = full->get_batch(idx);
  return std::make_shared<data::TensorDataset>(b.data, b.target);
}

void load_fashion_mnist(DataSplits& d, bool train, std::optional<size_t> train_limit,
                        std::optional<size_t> test_limit) {
  const std::string root = data::FashionMNIST::default_root();
  TINYML_CHECK(data::FashionMNIST::available(root),
               "dataset 'fashion-mnist': the files are not in '{}' (install the Debian package "
               "dataset-fashion-mnist, or set TINYML_FASHION_MNIST_DIR)",
               root);
  if (train) d.train = std::make_shared<data::FashionMNIST>(root, true, train_limit);
  d.test = std::make_shared<data::FashionMNIST>(root, false, test_limit);
  d.features = data::FashionMNIST::kPixels;
  d.classes = data::FashionMNIST::kClasses;
  d.default_arch = "784-256-128-10";
  d.description = fmt::format("Fashion-MNIST from {}", root);
}

void load_xor(DataSplits& d, bool train, std::optional<size_t> train_limit,
              std::optional<size_t> test_limit) {
  // The loader's targets are (4, 1) floats for a one-output BCE model; here every dataset is a
  // classification over class logits, so the targets become class indices (4).
  const data::TensorDataset x = data::xor_dataset();
  auto full = std::make_shared<data::TensorDataset>(x.data(), x.targets().reshape({4}));
  if (train) d.train = take(full, train_limit, "load_dataset(xor)");
  d.test = take(full, test_limit, "load_dataset(xor)");
  d.features = 2;
  d.classes = 2;
  d.default_arch = "2-8-2";
  d.description = "XOR (the 4 points; the test split is the train split)";
}

void load_spirals(DataSplits& d, bool train, std::optional<size_t> train_limit,
                  std::optional<size_t> test_limit) {
  if (train) {
    Generator gen(kSpiralsTrainSeed);
    d.train = take(std::make_shared<data::TensorDataset>(
                       data::spirals(kSpiralsTrainPerClass, kSpiralsClasses, kSpiralsNoise, gen)),
                   train_limit, "load_dataset(spirals)");
  }
  Generator gen(kSpiralsTestSeed);
  d.test = take(std::make_shared<data::TensorDataset>(
                    data::spirals(kSpiralsTestPerClass, kSpiralsClasses, kSpiralsNoise, gen)),
                test_limit, "load_dataset(spirals)");
  d.features = 2;
  d.classes = kSpiralsClasses;
  d.default_arch = "2-64-64-3";
  d.description = fmt::format("{} interleaved spirals, noise {} rad", kSpiralsClasses, kSpiralsNoise);
}

}  // namespace

DataSplits load_dataset(const std::string& name, bool train, std::optional<size_t> train_limit,
                        std::optional<size_t> test_limit) {
  DataSplits d;
  d.name = name;
  if (name == "fashion-mnist")
    load_fashion_mnist(d, train, train_limit, test_limit);
  else if (name == "xor")
    load_xor(d, train, train_limit, test_limit);
  else if (name == "spirals")
    load_spirals(d, train, train_limit, test_limit);
  else
    TINYML_CHECK(false, "unknown dataset '{}'; expected one of {}", name, dataset_names());
  return d;
}

void check_arch_fits(const std::vector<int64_t>& sizes, const DataSplits& data, const char* what) {
  TINYML_CHECK(sizes.size() >= 2 && sizes.front() == data.features && sizes.back() == data.classes,
               "{} {} does not fit dataset '{}': it has {} inputs and {} classes, so the architecture "
               "must look like {}-...-{} (e.g. {})",
               what, arch_string(sizes), data.name, data.features, data.classes, data.features, data.classes,
               data.default_arch);
}

std::vector<Tensor> calibration_batches(std::shared_ptr<const data::Dataset> dataset, int64_t n,
                                        int64_t batch, uint64_t seed) {
  TINYML_CHECK(n >= 0 && batch > 0, "calibration_batches: needs n >= 0 and batch > 0, got n {} and batch {}",
               n, batch);
  data::DataLoader loader(std::move(dataset),
                          {.batch_size = static_cast<size_t>(batch), .shuffle = true, .seed = seed});
  std::vector<Tensor> out;
  for (const data::Batch& b : loader) {
    if (static_cast<int64_t>(out.size()) >= n) break;
    out.push_back(b.data);
  }
  return out;
}

}  // namespace tinyml::train

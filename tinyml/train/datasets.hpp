// Datasets by name, split into train and test, with the facts a model needs: input width and classes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tinyml/core/tensor.hpp"
#include "tinyml/data/dataset.hpp"

namespace tinyml::train {

// The names load_dataset accepts: "fashion-mnist", "xor", "spirals".
const std::vector<std::string>& dataset_names();

struct DataSplits {
  std::string name;
  std::shared_ptr<const data::Dataset> train;  // null when not requested
  std::shared_ptr<const data::Dataset> test;
  int64_t features = 0;  // input width of one example
  int64_t classes = 0;   // targets are class indices in [0, classes)
  std::string default_arch;
  std::string description;  // "Fashion-MNIST from /usr/share/...", for the human output
};

// Loads `name` (fashion-mnist | xor | spirals). `train` also loads the training split (evaluation
// needs only the test split). `train_limit` / `test_limit` keep at most that many examples of a
// split: the first ones for Fashion-MNIST (its files are already shuffled), an evenly spaced
// selection for the synthetic sets (whose examples are stored class by class). The synthetic
// sets are drawn from fixed seeds, so the test split is the same in every run: a model saved
// after training scores the same when evaluated later. XOR has only four points; its test split
// is its train split. Throws tinyml::Error for an unknown name, a limit of 0, or missing files.
DataSplits load_dataset(const std::string& name, bool train, std::optional<size_t> train_limit = std::nullopt,
                        std::optional<size_t> test_limit = std::nullopt);

// Throws tinyml::Error (starting with `what`) unless `sizes` starts with the dataset's feature
// count and ends with its class count.
void check_arch_fits(const std::vector<int64_t>& sizes, const DataSplits& data, const char* what);

// The inputs of the first `n` batches of `batch` examples of a shuffle of `dataset` seeded by
// `seed`: a fixed, representative sample for calibration. Fewer when the dataset runs out.
std::vector<Tensor> calibration_batches(std::shared_ptr<const data::Dataset> dataset, int64_t n,
                                        int64_t batch, uint64_t seed = 0);

}  // namespace tinyml::train

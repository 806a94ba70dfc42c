// The pieces every `tinyml` subcommand shares: datasets by name, the MLP, one training epoch, evaluation.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/data/dataloader.hpp"
#include "tinyml/data/dataset.hpp"
#include "tinyml/nn/module.hpp"
#include "tinyml/nn/sequential.hpp"
#include "tinyml/optim/optimizer.hpp"

namespace tinyml::cli {

// ---- architecture ----

// "784-256-128-10" → {784, 256, 128, 10}. Needs at least two sizes, each a positive integer;
// anything else throws tinyml::Error quoting the text and the offending item.
std::vector<int64_t> parse_arch(const std::string& text);
// {784, 256, 128, 10} → "784-256-128-10".
std::string arch_string(const std::vector<int64_t>& sizes);
// Linear layers of the given sizes with ReLU between them and nothing after the last (the loss
// takes logits). Children are named "0", "1", ... so state_dict keys are "0.weight", "2.bias", ...
std::shared_ptr<nn::Sequential> make_mlp(const std::vector<int64_t>& sizes, Generator& gen);

// ---- datasets ----

// The names --dataset accepts.
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
// sets are drawn from fixed seeds, so the test split is the same in every run: a model saved by
// `train` scores the same under `eval`. XOR has only four points; its test split is its train split.
DataSplits load_dataset(const std::string& name, bool train, std::optional<size_t> train_limit = std::nullopt,
                        std::optional<size_t> test_limit = std::nullopt);

// Throws unless `sizes` starts with the dataset's feature count and ends with its class count.
void check_arch_fits(const std::vector<int64_t>& sizes, const DataSplits& data, const char* what);

// ---- training and evaluation ----

using LossFn = std::function<Tensor(const Tensor& logits, const Tensor& targets)>;

// Builds "adam" (lr; betas and eps at PyTorch's defaults) or "sgd" (lr, momentum).
std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params,
                                                 double lr, double momentum);

// Reports progress of a long loop on stderr. Nothing is shown during the first half second, so
// quick loops stay silent. Then, on a terminal, the line is redrawn in place at most ten times a
// second; elsewhere (a log file) a line is written at each quarter. A disabled bar prints nothing
// (--json, --quiet).
class ProgressBar {
 public:
  ProgressBar(std::string label, size_t total, bool enabled);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  // `done` steps of `total` are complete; `status` is appended to the line ("loss 0.4312").
  void update(size_t done, const std::string& status = {});
  // Clears the in-place line (on a terminal) so the caller's own output starts on a clean line.
  void finish();

 private:
  void draw(size_t done, const std::string& status);

  std::string label_;
  size_t total_;
  bool enabled_;
  bool tty_;
  bool drawn_ = false;
  size_t next_quarter_ = 1;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
};

// One pass over `loader`: zero_grad, forward, loss, backward, step per batch. Returns the mean
// loss over the examples of the pass (batches weighted by their size). The model is put in
// training mode. `progress` may be null. A loss that is not finite stops the pass with an error
// naming the step, before that step's update.
double train_epoch(nn::Module& model, data::DataLoader& loader, optim::Optimizer& optimizer,
                   const LossFn& loss, ProgressBar* progress = nullptr);

struct EvalResult {
  double accuracy = 0.0;  // fraction of the examples whose argmax logit is the target class
  size_t correct = 0;
  size_t n = 0;
  size_t non_finite = 0;  // examples whose outputs hold NaN or Inf (counted as wrong)
  // Forward time only: batches are prepared before the clock starts, after one untimed warm-up forward.
  double ms_per_1000 = 0.0;
};

// Accuracy of `model` on `dataset`, in eval mode and without recording a graph, `batch` examples
// at a time. The model's training flag is restored afterwards.
EvalResult evaluate(nn::Module& model, const data::Dataset& dataset, size_t batch = 1000);

// ---- model files ----

// A model rebuilt from a file.
struct LoadedModel {
  std::shared_ptr<nn::Module> model;
  // The layer sizes of the rebuilt model (io::layer_sizes; a metadata "arch" that disagrees is an
  // error); empty when the model has no Linear layer.
  std::vector<int64_t> arch;
  std::string dataset;                          // the dataset it was trained on ("" if unknown)
  std::map<std::string, std::string> metadata;  // the file's __metadata__
};

// The metadata `train --save` adds to the file: "arch", "dataset", "activation", "model".
std::map<std::string, std::string> model_metadata(const std::vector<int64_t>& arch,
                                                  const std::string& dataset);
// Rebuilds the model in `path`: a whole-model file (io::save_model, float or quantized, which is
// what `train --save` writes), or a plain state dict whose metadata names the MLP's "arch".
// Throws tinyml::Error naming the file and what is missing or wrong. Every kind of model file the
// CLI understands is recognised here, from its metadata.
LoadedModel load_model_file(const std::string& path);

// The model in `path` (see load_model_file) as a Sequential, which quantize_model and prepare_qat
// need; `command` names the caller in the error for any other module. `info`, when given,
// receives what load_model_file found.
std::shared_ptr<nn::Sequential> load_sequential(const std::string& path, const char* command,
                                                LoadedModel* info = nullptr);

// Checked before any work: `out` can be saved to (core/file.hpp: check_save_target), and is not the
// file `in` unless `force` (replacing the float model by its quantized copy is rarely meant).
void check_output_file(const std::string& in, const std::string& out, bool force, const char* command);

// ---- calibration ----

// The first `n` batches of `batch` examples of a seeded shuffle of the training split: a fixed,
// representative sample for calibration.
std::vector<Tensor> calibration_batches(std::shared_ptr<const data::Dataset> train, int64_t n, int64_t batch,
                                        uint64_t seed = 0);

// ---- small helpers ----

// "0, 4,last" → {"0", "4", "last"}: items of a comma-separated option, trimmed, empty ones dropped.
std::vector<std::string> split_list(const std::string& s);

// Seconds since `start`.
double seconds_since(std::chrono::steady_clock::time_point start);
// The median of `values` (the mean of the middle two for an even count); 0 for none.
double median(std::vector<double> values);
// Applies --threads: n > 0 uses n threads, 0 all cores (the default of every command is 1).
void apply_threads(int threads);

}  // namespace tinyml::cli

// `tinyml train`: trains an MLP on a named dataset, reports each epoch, optionally saves the model.
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/progress.hpp"
#include "cli/support.hpp"
#include "commands.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/file.hpp"
#include "tinyml/data/dataloader.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/kernels/sgemm.hpp"
#include "tinyml/nn/loss.hpp"
#include "tinyml/train/train.hpp"

namespace tinyml::cli {

using namespace tinyml::train;

namespace {

struct TrainOptions {
  std::string dataset = "fashion-mnist";
  std::string arch;  // empty: the dataset's default
  std::string optimizer = "adam";
  double lr = 1e-3;
  double momentum = 0.9;
  int64_t batch = 128;
  int64_t epochs = 5;
  uint64_t seed = 0;
  int threads = 1;
  int64_t limit = 0;  // 0: the whole training split
  std::string save;
  bool json = false;
  bool quiet = false;
};

int64_t count_parameters(const nn::Module& m) {
  int64_t n = 0;
  for (const Tensor& p : m.parameters()) n += p.numel();
  return n;
}

// Everything `tinyml train` measures; compute() fills it, the render functions print it.
struct TrainResults {
  TrainOptions options;
  std::vector<int64_t> arch;
  int64_t parameters = 0;
  std::string data_description;
  size_t train_n = 0;
  size_t test_n = 0;
  std::vector<EpochRow> epochs;  // the reported epochs (reported_every), each with its test accuracy
  EvalResult final_test;
};

// What compute() reports while it runs (both optional): the setup, once known, and each reported epoch.
struct TrainListener {
  std::function<void(const TrainResults&)> started;
  std::function<void(const EpochRow&)> epoch;
};

// Which epochs get a test evaluation and a row: the first, the last and every n-th. A long run in text
// (XOR takes hundreds of tiny epochs) shows about 25 rows; JSON gets every epoch.
bool reported(const TrainOptions& o, int64_t epoch) {
  const int64_t every = !o.json && o.epochs > 50 ? (o.epochs + 24) / 25 : 1;
  return epoch == 1 || epoch == o.epochs || epoch % every == 0;
}

void train_epochs(const TrainOptions& o, nn::Module& model, const DataSplits& data, TrainResults& r,
                  const TrainListener& listener) {
  auto optimizer = make_optimizer(o.optimizer, model.parameters(), o.lr, o.momentum);
  data::DataLoader loader(data.train,
                          {.batch_size = static_cast<size_t>(o.batch), .shuffle = true, .seed = o.seed});
  for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    ProgressBar bar(fmt::format("epoch {}/{}", epoch, o.epochs), loader.size(), !o.json && !o.quiet);
    const auto t0 = std::chrono::steady_clock::now();
    EpochRow e;
    e.epoch = epoch;
    try {
      e.train_loss = data::train_epoch(model, *optimizer, loader, bar.epoch_progress()).loss;
    } catch (const Error& err) {
      throw Error(fmt::format("train: epoch {} of {}: {}", epoch, o.epochs, err.what()));
    }
    e.epoch_s = seconds_since(t0);
    bar.finish();
    if (!reported(o, epoch)) continue;
    e.test_acc = evaluate(model, *data.test).accuracy;
    r.epochs.push_back(e);
    if (listener.epoch) listener.epoch(e);
  }
}

TrainResults compute(const TrainOptions& o, const TrainListener& listener) {
  apply_threads(o.threads);
  // Checked before training, not after minutes of it: the folder exists, the target is a file.
  if (!o.save.empty()) check_save_target(o.save, fmt::format("--save {}", o.save));
  const DataSplits data =
      load_dataset(o.dataset, /*train=*/true,
                   o.limit > 0 ? std::optional<size_t>(static_cast<size_t>(o.limit)) : std::nullopt);
  TrainResults r;
  r.options = o;
  r.arch = parse_arch(o.arch.empty() ? data.default_arch : o.arch);
  check_arch_fits(r.arch, data, "--arch");

  manual_seed(o.seed);  // anything that draws from the global generator is reproducible too
  Generator init_gen(o.seed);
  auto model = make_mlp(r.arch, init_gen);
  r.parameters = count_parameters(*model);
  r.data_description = data.description;
  r.train_n = data.train->size();
  r.test_n = data.test->size();
  if (listener.started) listener.started(r);

  train_epochs(o, *model, data, r, listener);
  r.final_test = evaluate(*model, *data.test);
  if (!o.save.empty()) io::save_model(*model, o.save, model_metadata(r.arch, o.dataset));
  return r;
}

// ---------------------------------------------------------------- output

std::string render_setup(const TrainResults& r) {
  const TrainOptions& o = r.options;
  std::string s =
      fmt::format("dataset    {}: {} train, {} test\n", r.data_description, r.train_n, r.test_n) +
      fmt::format("model      MLP {} (ReLU), {} parameters\n", arch_string(r.arch), r.parameters) +
      fmt::format("optimizer  {} lr {}{}, batch {}, {} epochs, seed {}\n", o.optimizer, o.lr,
                  o.optimizer == "sgd" ? fmt::format(" momentum {}", o.momentum) : std::string(), o.batch,
                  o.epochs, o.seed) +
      fmt::format("blas       {}\n", kernels::blas_info());
  if (o.epochs > 0)
    s += fmt::format("\n{:>5}  {:>8}  {:>10}  {:>8}\n", "epoch", "time_s", "train_loss", "test_acc");
  return s;
}

std::string render_epoch(const EpochRow& e, bool json) {
  if (json) {
    const nlohmann::ordered_json line = {
        {"epoch", e.epoch}, {"epoch_s", e.epoch_s}, {"train_loss", e.train_loss}, {"test_acc", e.test_acc}};
    return line.dump() + "\n";
  }
  return fmt::format("{:>5}  {:>8.3f}  {:>10.4f}  {:>7.2f}%\n", e.epoch, e.epoch_s, e.train_loss,
                     100.0 * e.test_acc);
}

std::string render_summary(const TrainResults& r) {
  const EvalResult& t = r.final_test;
  std::string s = fmt::format("\ntest accuracy {:.2f}% ({}/{}), inference {:.2f} ms per 1000 images\n",
                              100.0 * t.accuracy, t.correct, t.n, t.ms_per_1000);
  if (!r.options.save.empty()) s += fmt::format("saved      {}\n", r.options.save);
  return s;
}

// JSON: one line per epoch as it ends. Text: the setup first, a row per reported epoch, the summary.
void run_train(const TrainOptions& o) {
  TrainListener listener;
  listener.epoch = [json = o.json](const EpochRow& e) { print_now(render_epoch(e, json)); };
  if (!o.json)
    listener.started = [](const TrainResults& r) {
      print_now(render_setup(r));
      if (const std::string w = kernels::blas_warning(); !w.empty() && !r.options.quiet)
        fmt::print(stderr, "warning: {}\n", w);
    };
  const TrainResults r = compute(o, listener);
  if (!o.json) print_now(render_summary(r));
}

// Checks --arch while parsing, so a typo is reported with the option's name before any work.
CLI::Validator arch_validator() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        try {
          parse_arch(s);
        } catch (const Error& e) {
          return e.what();
        }
        return {};
      },
      "ARCH");
}

}  // namespace

void register_train(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* cmd = app.add_subcommand("train", "Train an MLP (Linear+ReLU layers) with cross-entropy");
  cmd->add_option("--dataset", o->dataset, "fashion-mnist | xor | spirals")
      ->check(CLI::IsMember(dataset_names()))
      ->capture_default_str();
  cmd->add_option("--arch", o->arch,
                  "Layer sizes, inputs first and classes last (default per dataset: fashion-mnist "
                  "784-256-128-10, xor 2-8-2, spirals 2-64-64-3)")
      ->check(arch_validator());
  cmd->add_option("--optimizer", o->optimizer, "adam | sgd")
      ->check(CLI::IsMember({"adam", "sgd"}))
      ->capture_default_str();
  cmd->add_option("--lr", o->lr, "Learning rate")->check(positive_number())->capture_default_str();
  cmd->add_option("--momentum", o->momentum, "SGD momentum (ignored by adam)")
      ->check(fraction_below_one())
      ->capture_default_str();
  cmd->add_option("--batch", o->batch, "Batch size")->check(int_at_least(1))->capture_default_str();
  cmd->add_option("--epochs", o->epochs, "Passes over the training set")
      ->check(int_at_least(0))
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the initialisation and the shuffling")
      ->check(seed_value())
      ->capture_default_str();
  add_threads_option(cmd, o->threads);
  cmd->add_option("--limit", o->limit, "Train on the first N examples only (default: all)")
      ->check(int_at_least(1));
  cmd->add_option("--save", o->save, "Write the trained model to FILE (.safetensors)")
      ->check(non_empty_path());
  cmd->add_flag("--json", o->json,
                "One JSON object per epoch on stdout: {epoch, epoch_s, train_loss, test_acc}");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress bar or warnings on stderr");
  cmd->callback([o] { run_train(*o); });
}

}  // namespace tinyml::cli

// `tinyml train`: trains an MLP on a named dataset, reports each epoch, optionally saves the model.
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

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

void run_train(const TrainOptions& o) {
  apply_threads(o.threads);
  // Checked before training, not after minutes of it: the folder exists, the target is a file.
  if (!o.save.empty()) check_save_target(o.save, fmt::format("--save {}", o.save));
  const bool human = !o.json;
  const bool chatty = human && !o.quiet;

  DataSplits data =
      load_dataset(o.dataset, /*train=*/true,
                   o.limit > 0 ? std::optional<size_t>(static_cast<size_t>(o.limit)) : std::nullopt);
  const std::vector<int64_t> arch = parse_arch(o.arch.empty() ? data.default_arch : o.arch);
  check_arch_fits(arch, data, "--arch");

  manual_seed(o.seed);  // anything that draws from the global generator is reproducible too
  Generator init_gen(o.seed);
  auto model = make_mlp(arch, init_gen);
  auto optimizer = make_optimizer(o.optimizer, model->parameters(), o.lr, o.momentum);
  data::DataLoader loader(data.train,
                          {.batch_size = static_cast<size_t>(o.batch), .shuffle = true, .seed = o.seed});

  if (human) {
    fmt::print("dataset    {}: {} train, {} test\n", data.description, data.train->size(), data.test->size());
    fmt::print("model      MLP {} (ReLU), {} parameters\n", arch_string(arch), count_parameters(*model));
    fmt::print("optimizer  {} lr {}{}, batch {}, {} epochs, seed {}\n", o.optimizer, o.lr,
               o.optimizer == "sgd" ? fmt::format(" momentum {}", o.momentum) : std::string(), o.batch,
               o.epochs, o.seed);
    fmt::print("blas       {}\n", kernels::blas_info());
    if (const std::string w = kernels::blas_warning(); !w.empty() && !o.quiet)
      fmt::print(stderr, "warning: {}\n", w);
    if (o.epochs > 0)
      fmt::print("\n{:>5}  {:>8}  {:>10}  {:>8}\n", "epoch", "time_s", "train_loss", "test_acc");
    std::fflush(stdout);
  }

  for (int64_t epoch = 1; epoch <= o.epochs; ++epoch) {
    ProgressBar bar(fmt::format("epoch {}/{}", epoch, o.epochs), loader.size(), chatty);
    const auto t0 = std::chrono::steady_clock::now();
    double train_loss = 0.0;
    try {
      train_loss = data::train_epoch(*model, *optimizer, loader, bar.epoch_progress()).loss;
    } catch (const Error& e) {
      throw Error(fmt::format("train: epoch {} of {}: {}", epoch, o.epochs, e.what()));
    }
    const double epoch_s = seconds_since(t0);
    bar.finish();
    // A long run (XOR takes hundreds of tiny epochs) shows about 25 rows; JSON gets every epoch.
    const int64_t every = o.epochs > 50 ? (o.epochs + 24) / 25 : 1;
    if (human && epoch != 1 && epoch != o.epochs && epoch % every != 0) continue;
    const EvalResult test = evaluate(*model, *data.test);
    if (o.json) {
      const nlohmann::ordered_json line = {
          {"epoch", epoch}, {"epoch_s", epoch_s}, {"train_loss", train_loss}, {"test_acc", test.accuracy}};
      fmt::print("{}\n", line.dump());
    } else {
      fmt::print("{:>5}  {:>8.3f}  {:>10.4f}  {:>7.2f}%\n", epoch, epoch_s, train_loss,
                 100.0 * test.accuracy);
    }
    std::fflush(stdout);
  }

  if (human) {
    const EvalResult final_test = evaluate(*model, *data.test);
    fmt::print("\ntest accuracy {:.2f}% ({}/{}), inference {:.2f} ms per 1000 images\n",
               100.0 * final_test.accuracy, final_test.correct, final_test.n, final_test.ms_per_1000);
  }
  if (!o.save.empty()) {
    io::save_model(*model, o.save, model_metadata(arch, o.dataset));
    if (human) fmt::print("saved      {}\n", o.save);
  }
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
  cmd->add_option("--threads", o->threads, "kernel threads (OpenBLAS and oneDNN); default 1, 0 = all cores")
      ->check(int_at_least(0))
      ->capture_default_str();
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

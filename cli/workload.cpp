#include "workload.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>
#include <utility>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/file.hpp"
#include "tinyml/data/fashion_mnist.hpp"
#include "tinyml/data/synthetic.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/io/model_io.hpp"
#include "tinyml/io/safetensors.hpp"
#include "tinyml/kernels/sgemm.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/optim/adam.hpp"
#include "tinyml/optim/sgd.hpp"

namespace tinyml::cli {

// ---- architecture ----

std::vector<int64_t> parse_arch(const std::string& text) {
  std::vector<int64_t> sizes;
  size_t pos = 0;
  while (true) {
    const size_t dash = text.find('-', pos);
    const std::string item = text.substr(pos, dash == std::string::npos ? std::string::npos : dash - pos);
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    TINYML_CHECK(!item.empty() && ec == std::errc() && end == item.data() + item.size() && value > 0,
                 "architecture '{}': '{}' is not a positive integer; expected layer sizes joined by "
                 "'-', like 784-256-128-10",
                 text, item);
    // Bounds the weight matrices so that a typo cannot ask for terabytes.
    constexpr int64_t kMaxWidth = int64_t{1} << 20;
    TINYML_CHECK(value <= kMaxWidth, "architecture '{}': layer size {} exceeds the limit of {}", text, value,
                 kMaxWidth);
    sizes.push_back(value);
    if (dash == std::string::npos) break;
    pos = dash + 1;
  }
  TINYML_CHECK(sizes.size() >= 2,
               "architecture '{}': needs at least two sizes (inputs and outputs), like 2-8-2", text);
  return sizes;
}

std::string arch_string(const std::vector<int64_t>& sizes) {
  return fmt::format("{}", fmt::join(sizes, "-"));
}

std::shared_ptr<nn::Sequential> make_mlp(const std::vector<int64_t>& sizes, Generator& gen) {
  TINYML_CHECK(sizes.size() >= 2, "make_mlp: needs at least two layer sizes, got {}", sizes);
  auto model = std::make_shared<nn::Sequential>();
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    TINYML_CHECK(sizes[i] > 0 && sizes[i + 1] > 0, "make_mlp: layer sizes must be positive, got {}", sizes);
    model->push_back(std::make_shared<nn::Linear>(sizes[i], sizes[i + 1], true, gen));
    if (i + 2 < sizes.size()) model->push_back(std::make_shared<nn::ReLU>());
  }
  return model;
}

// ---- datasets ----

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names{"fashion-mnist", "xor", "spirals"};
  return names;
}

namespace {

// Fixed seeds and sizes of the synthetic sets: the data must not depend on --seed, or a saved
// model would be evaluated on other points than it was trained and tested on.
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

}  // namespace

DataSplits load_dataset(const std::string& name, bool train, std::optional<size_t> train_limit,
                        std::optional<size_t> test_limit) {
  DataSplits d;
  d.name = name;
  if (name == "fashion-mnist") {
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
  } else if (name == "xor") {
    // The loader's targets are (4, 1) floats for a one-output BCE model; the CLI trains every
    // dataset with cross-entropy over class logits, so the targets become class indices (4).
    const data::TensorDataset x = data::xor_dataset();
    auto full = std::make_shared<data::TensorDataset>(x.data(), x.targets().reshape({4}));
    if (train) d.train = take(full, train_limit, "load_dataset(xor)");
    d.test = take(full, test_limit, "load_dataset(xor)");
    d.features = 2;
    d.classes = 2;
    d.default_arch = "2-8-2";
    d.description = "XOR (the 4 points; the test split is the train split)";
  } else if (name == "spirals") {
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
  } else {
    TINYML_CHECK(false, "unknown dataset '{}'; expected one of {}", name, dataset_names());
  }
  return d;
}

void check_arch_fits(const std::vector<int64_t>& sizes, const DataSplits& data, const char* what) {
  TINYML_CHECK(sizes.size() >= 2 && sizes.front() == data.features && sizes.back() == data.classes,
               "{} {} does not fit dataset '{}': it has {} inputs and {} classes, so the architecture "
               "must look like {}-...-{} (e.g. {})",
               what, arch_string(sizes), data.name, data.features, data.classes, data.features, data.classes,
               data.default_arch);
}

// ---- training and evaluation ----

std::unique_ptr<optim::Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params,
                                                 double lr, double momentum) {
  if (name == "adam") return std::make_unique<optim::Adam>(std::move(params), optim::AdamOptions{.lr = lr});
  if (name == "sgd")
    return std::make_unique<optim::SGD>(std::move(params), optim::SGDOptions{.lr = lr, .momentum = momentum});
  TINYML_CHECK(false, "unknown optimizer '{}'; expected adam or sgd", name);
  return nullptr;
}

ProgressBar::ProgressBar(std::string label, size_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled && total > 0),
      tty_(isatty(fileno(stderr)) == 1),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(size_t done, const std::string& status) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - start_ < std::chrono::milliseconds(500)) return;
  if (tty_) {
    // Redrawing more often than the eye can read costs time in a tight training loop.
    if (done < total_ && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    draw(done, status);
  } else if (done * 4 >= next_quarter_ * total_) {
    while (next_quarter_ <= 4 && done * 4 >= next_quarter_ * total_) ++next_quarter_;
    draw(done, status);
  }
}

void ProgressBar::draw(size_t done, const std::string& status) {
  constexpr size_t kWidth = 30;
  const size_t filled = std::min(kWidth, done * kWidth / total_);
  const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  const std::string line = fmt::format("{} [{}] {}/{} {}", label_, bar, done, total_, status);
  if (tty_)
    fmt::print(stderr, "\r{}\x1b[K", line);  // ESC[K clears what a longer previous line left
  else
    fmt::print(stderr, "{}\n", line);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (enabled_ && tty_ && drawn_) {
    fmt::print(stderr, "\r\x1b[K");
    std::fflush(stderr);
  }
  drawn_ = false;
}

double train_epoch(nn::Module& model, data::DataLoader& loader, optim::Optimizer& optimizer,
                   const LossFn& loss, ProgressBar* progress) {
  model.train();
  double total = 0.0;
  size_t seen = 0;
  size_t step = 0;
  for (const data::Batch& batch : loader) {
    optimizer.zero_grad();
    const Tensor logits = model(batch.data);
    const Tensor l = loss(logits, batch.target);
    const float value = l.item();
    // Checked before the step: a NaN loss turns every weight it reaches into NaN.
    TINYML_CHECK(std::isfinite(value),
                 "train_epoch: the loss is {} at step {} of {}; training stopped (a learning rate too "
                 "high for the data, or non-finite inputs)",
                 value, step + 1, loader.size());
    l.backward();
    optimizer.step();
    const auto b = static_cast<size_t>(batch.data.size(0));
    total += static_cast<double>(value) * static_cast<double>(b);
    seen += b;
    ++step;
    if (progress != nullptr)
      progress->update(step, fmt::format("loss {:.4f}", total / static_cast<double>(seen)));
  }
  TINYML_CHECK(seen > 0,
               "train_epoch: the loader gave no batches (dataset of {} examples, batch {}, drop_last {})",
               loader.dataset().size(), loader.options().batch_size, loader.options().drop_last);
  return total / static_cast<double>(seen);
}

EvalResult evaluate(nn::Module& model, const data::Dataset& dataset, size_t batch) {
  TINYML_CHECK(batch > 0, "evaluate: batch must be positive, got 0");
  TINYML_CHECK(dataset.size() > 0, "evaluate: the dataset is empty");
  // Restores the caller's mode even when a forward throws.
  struct ModeGuard {
    nn::Module& m;
    bool was_training;
    ~ModeGuard() { m.train(was_training); }
  } mode{model, model.is_training()};
  model.eval();
  NoGradGuard no_grad;

  // Batches are materialised first so that the clock sees only the model.
  std::vector<data::Batch> batches;
  for (size_t start = 0; start < dataset.size(); start += batch) {
    std::vector<size_t> idx(std::min(batch, dataset.size() - start));
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = start + i;
    batches.push_back(dataset.get_batch(idx));
  }

  // One untimed forward first: the first call pays one-time costs (kernel JIT, thread start-up,
  // first touch of buffers) that would otherwise dominate a small evaluation.
  (void)model(batches.front().data);

  EvalResult r;
  double forward_s = 0.0;
  for (const data::Batch& b : batches) {
    const auto t0 = std::chrono::steady_clock::now();
    const Tensor logits = model(b.data).contiguous();
    forward_s += seconds_since(t0);
    TINYML_CHECK(logits.dim() == 2 && logits.size(0) == b.data.size(0),
                 "evaluate: the model returned shape {} for a batch of {}; expected (batch, classes)",
                 shape_str(logits.shape()), b.data.size(0));
    const std::vector<float> target = b.target.to_vector();
    TINYML_CHECK(static_cast<int64_t>(target.size()) == logits.size(0),
                 "evaluate: targets of shape {} do not hold one class index per example",
                 shape_str(b.target.shape()));
    const int64_t classes = logits.size(1);
    const float* p = logits.data();
    for (int64_t i = 0; i < logits.size(0); ++i) {
      const float* row = p + i * classes;
      // A row with NaN or Inf has no meaningful argmax: it counts as wrong, and is reported.
      if (!std::all_of(row, row + classes, [](float v) { return std::isfinite(v); })) {
        ++r.non_finite;
        continue;
      }
      const int64_t best = std::max_element(row, row + classes) - row;
      if (static_cast<float>(best) == target[static_cast<size_t>(i)]) ++r.correct;
    }
    r.n += static_cast<size_t>(logits.size(0));
  }
  r.accuracy = static_cast<double>(r.correct) / static_cast<double>(r.n);
  r.ms_per_1000 = forward_s * 1e3 * 1000.0 / static_cast<double>(r.n);
  return r;
}

// ---- model files ----

std::map<std::string, std::string> model_metadata(const std::vector<int64_t>& arch,
                                                  const std::string& dataset) {
  return {{"arch", arch_string(arch)}, {"dataset", dataset}, {"activation", "relu"}, {"model", "mlp"}};
}

LoadedModel load_model_file(const std::string& path) {
  std::error_code ec;
  TINYML_CHECK(std::filesystem::is_regular_file(path, ec), "model file '{}' does not exist or is not a file",
               path);
  const io::SafetensorsFile file = io::read_safetensors(path);
  LoadedModel out;
  out.metadata = file.metadata;
  const auto get = [&](const std::string& key) -> std::string {
    const auto it = file.metadata.find(key);
    return it == file.metadata.end() ? std::string() : it->second;
  };
  out.dataset = get("dataset");
  const std::string arch = get("arch");
  if (!arch.empty()) out.arch = parse_arch(arch);

  // A whole-model file (io::save_model: `train --save` writes these) carries its module tree, float
  // or quantized, and rebuilds itself.
  if (io::is_model_file(file.metadata)) {
    out.model = io::load_model(path);
    // Commands check the layers against the dataset, not the metadata's word for them.
    const std::vector<int64_t> sizes = io::layer_sizes(*out.model);
    TINYML_CHECK(out.arch.empty() || out.arch == sizes,
                 "model file '{}': its metadata says arch {} but its layers are {}", path, arch,
                 sizes.empty() ? std::string("none") : arch_string(sizes));
    out.arch = sizes;
    return out;
  }
  // A plain state dict of an MLP: the architecture comes from the "arch" metadata.
  std::vector<std::string> keys;
  for (const auto& [k, v] : file.metadata) keys.push_back(k);
  TINYML_CHECK(!arch.empty(),
               "model file '{}' has neither a module tree nor an 'arch' in its metadata, so the model "
               "cannot be rebuilt (files written by `tinyml train --save` have both); metadata keys: [{}]",
               path, fmt::join(keys, ", "));
  const std::string activation = get("activation");
  TINYML_CHECK(activation.empty() || activation == "relu",
               "model file '{}': activation '{}' is not supported (only relu)", path, activation);
  // The tensors must be the arch's before the model is built: a 19 KB file claiming
  // 2-16384-16384-3 used to allocate 1 GB before its shapes were compared.
  std::map<std::string, Shape> shapes;
  for (size_t i = 0; i + 1 < out.arch.size(); ++i) {
    shapes[fmt::format("{}.weight", 2 * i)] = {out.arch[i + 1], out.arch[i]};
    shapes[fmt::format("{}.bias", 2 * i)] = {out.arch[i + 1]};
  }
  io::check_state_dict_shapes(file, shapes, fmt::format("model file '{}' (arch {})", path, arch));
  Generator gen(0);  // the weights are overwritten by the file; the seed is irrelevant
  auto model = make_mlp(out.arch, gen);
  io::load(*model, path, /*strict=*/true);
  out.model = model;
  return out;
}

void check_output_file(const std::string& in, const std::string& out, bool force, const char* command) {
  check_save_target(out, fmt::format("{} --out {}", command, out));
  std::error_code ec;
  TINYML_CHECK(force || !std::filesystem::equivalent(in, out, ec),
               "{}: --out '{}' is the input model '{}', which would be replaced; pass --force to do so",
               command, out, in);
}

// ---- small helpers ----

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

void apply_threads(int threads) {
  // One thread by default: the MLP's matrices are small, and oneDNN's OpenMP threads spin-wait,
  // so on a 2-core machine shared with anything else two threads ran an epoch 3-8x slower.
  TINYML_CHECK(threads >= 0, "--threads must be >= 0 (0 = all cores), got {}", threads);
  kernels::set_num_threads(threads);
}

std::shared_ptr<nn::Sequential> load_sequential(const std::string& path, const char* command, LoadedModel* info) {
  LoadedModel loaded = load_model_file(path);
  auto seq = std::dynamic_pointer_cast<nn::Sequential>(loaded.model);
  TINYML_CHECK(seq != nullptr, "{}: the model in '{}' is a {}, not a Sequential", command, path,
               loaded.model->type_name());
  if (info) *info = std::move(loaded);
  return seq;
}

std::vector<Tensor> calibration_batches(std::shared_ptr<const data::Dataset> train, int64_t n, int64_t batch,
                                        uint64_t seed) {
  data::DataLoader loader(std::move(train),
                          {.batch_size = static_cast<size_t>(batch), .shuffle = true, .seed = seed});
  std::vector<Tensor> out;
  for (const data::Batch& b : loader) {
    if (static_cast<int64_t>(out.size()) >= n) break;
    out.push_back(b.data);
  }
  return out;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace tinyml::cli

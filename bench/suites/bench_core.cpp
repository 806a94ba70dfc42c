// The "core" bench suite: fp32 sgemm, a Linear forward, and the reference MLP's training and inference.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "bench/suites/bench.hpp"
#include "cli/progress.hpp"
#include "cli/support.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/data/dataloader.hpp"
#include "tinyml/data/fashion_mnist.hpp"
#include "tinyml/kernels/sgemm.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/loss.hpp"
#include "tinyml/train/train.hpp"

namespace tinyml::cli {

using namespace tinyml::train;

namespace {

// The shape of the reference figures of docs/performance.md: a batch of 256 through a 1024-wide layer. The
// backend the library picked comes first; each backend is timed too, so that a machine where
// OpenBLAS runs narrow kernels (OPENBLAS_CORETYPE) shows how much that costs.
std::vector<BenchResult> bench_sgemm(const BenchOptions& o) {
  constexpr int64_t M = 256, N = 1024, K = 1024;
  constexpr double kFlops = 2.0 * M * N * K;
  Generator gen(0);
  Tensor a = Tensor::rand({M, K}, gen);
  Tensor b = Tensor::rand({K, N}, gen);
  Tensor c = Tensor::zeros({M, N});
  std::vector<BenchResult> out;
  const Timing t = time_calls(
      o, [&] { kernels::sgemm(false, false, M, N, K, 1.0f, a.data(), K, b.data(), N, 0.0f, c.data(), N); });
  out.push_back(rate_result(
      "sgemm_256x1024x1024", kFlops, t, "GFLOP/s",
      fmt::format("fp32 C = A·B through kernels::sgemm ({})", kernels::to_string(kernels::sgemm_backend()))));
  for (const auto backend : {kernels::SgemmBackend::OpenBLAS, kernels::SgemmBackend::OneDNN}) {
    const Timing tb = time_calls(o, [&] {
      kernels::sgemm_using(backend, false, false, M, N, K, 1.0f, a.data(), K, b.data(), N, 0.0f, c.data(), N);
    });
    const std::string name = backend == kernels::SgemmBackend::OpenBLAS ? "openblas" : "onednn";
    out.push_back(rate_result("sgemm_256x1024x1024_" + name, kFlops, tb, "GFLOP/s",
                              fmt::format("the same through {} only", kernels::to_string(backend))));
  }
  return out;
}

BenchResult bench_linear(const BenchOptions& o) {
  Generator gen(0);
  nn::Linear layer(1024, 1024, true, gen);
  const Tensor x = Tensor::randn({256, 1024}, gen);
  NoGradGuard no_grad;  // inference: no graph is recorded
  return ms_result("linear_1024x1024_b256_forward", time_calls(o, [&] { const Tensor y = layer(x); }),
                   "nn::Linear(1024, 1024) on (256, 1024), no grad");
}

// The reference workload of docs/performance.md's targets: MLP 784-256-128-10, Adam 1e-3, batch 128 on
// Fashion-MNIST.
std::vector<BenchResult> bench_training_mlp(const BenchOptions& o) {
  const std::optional<size_t> limit =
      o.limit > 0 ? std::optional<size_t>(static_cast<size_t>(o.limit)) : std::nullopt;
  std::shared_ptr<const data::Dataset> train;
  std::shared_ptr<const data::Dataset> test;
  std::string source;
  const bool real = data::FashionMNIST::available();
  if (real) {
    train = std::make_shared<data::FashionMNIST>(data::FashionMNIST::default_root(), true, limit);
    test = std::make_shared<data::FashionMNIST>(data::FashionMNIST::default_root(), false);
    source = fmt::format("Fashion-MNIST, {} images", train->size());
  } else {
    // Same shapes, so the same arithmetic; accuracy is meaningless and not reported.
    Generator gen(1);
    const auto n = static_cast<int64_t>(limit.value_or(60000));
    std::vector<float> labels(static_cast<size_t>(n));
    for (float& l : labels) l = static_cast<float>(gen.randint(10));
    train =
        std::make_shared<data::TensorDataset>(Tensor::rand({n, 784}, gen), Tensor::from_vector(labels, {n}));
    test = std::make_shared<data::TensorDataset>(Tensor::rand({1000, 784}, gen),
                                                 Tensor::from_vector(std::vector<float>(1000, 0.0f), {1000}));
    source = fmt::format("synthetic data of Fashion-MNIST's shape, {} images (dataset not installed)", n);
  }

  Generator gen(0);
  auto model = make_mlp({784, 256, 128, 10}, gen);
  auto optimizer = make_optimizer("adam", model->parameters(), 1e-3, 0.0);
  data::DataLoader loader(train, {.batch_size = 128, .shuffle = true, .seed = 0});

  // Whole epochs, one after the other on one model, as training runs them: the median and the
  // fastest epoch time. The first epoch is not set apart as a warm-up; it touches the same buffers
  // as the others from its second batch on.
  std::vector<double> epoch_s;
  for (int r = 0; r < std::max(1, o.repeat); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    data::train_epoch(*model, *optimizer, loader);
    epoch_s.push_back(seconds_since(t0));
  }
  std::vector<BenchResult> out;
  const double fastest = *std::min_element(epoch_s.begin(), epoch_s.end());
  out.push_back({.name = "mlp_train_epoch",
                 .value = median(epoch_s),
                 .unit = "s",
                 .note = fmt::format("784-256-128-10, Adam 1e-3, batch 128, {}", source),
                 .best = fastest,
                 .samples = static_cast<int64_t>(epoch_s.size())});
  if (real) {
    const EvalResult acc = evaluate(*model, *test);
    out.push_back(plain_result("mlp_test_acc", 100.0 * acc.accuracy, "%",
                               fmt::format("after {} epoch{} ({} test images)", epoch_s.size(),
                                           epoch_s.size() == 1 ? "" : "s", acc.n)));
  }

  std::vector<size_t> first(std::min<size_t>(1000, test->size()));
  for (size_t i = 0; i < first.size(); ++i) first[i] = i;
  const Tensor images = test->get_batch(first).data;
  model->eval();
  NoGradGuard no_grad;
  BenchResult infer =
      ms_result("mlp_infer_1000", time_calls(o, [&] { const Tensor logits = (*model)(images); }),
                fmt::format("one forward of {} test images of the trained model, no grad", first.size()));
  // Per 1000 images, for a test split smaller than that.
  const double per_1000 = 1000.0 / static_cast<double>(first.size());
  infer.value *= per_1000;
  infer.best *= per_1000;
  out.push_back(infer);
  return out;
}

std::vector<BenchResult> run_core(const BenchOptions& o) {
  std::vector<BenchResult> out;
  for (BenchResult& r : bench_sgemm(o)) out.push_back(std::move(r));
  out.push_back(bench_linear(o));
  for (BenchResult& r : bench_training_mlp(o)) out.push_back(std::move(r));
  return out;
}

}  // namespace

BenchSuite core_bench_suite() {
  return {"core", "fp32 sgemm, Linear forward, MLP 784-256-128-10 training and inference", run_core};
}

}  // namespace tinyml::cli

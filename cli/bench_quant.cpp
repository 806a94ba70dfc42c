// The "quant" bench suite: QuantizedLinear in each mode against the float Linear, the int8 GEMM, the
// quantized MLP and its size.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/data/fashion_mnist.hpp"
#include "tinyml/kernels/qgemm.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/quant/quantize_model.hpp"
#include "tinyml/quant/quantized_linear.hpp"
#include "workload.hpp"

namespace tinyml::cli {

namespace {

using quant::QuantizedLinear;
using quant::QuantMode;
using quant::QuantSpec;

double ms(double seconds) { return seconds * 1e3; }

// Seconds of the fastest of many single calls (after one warm-up): at least 20·repeat calls and
// 0.3 s of them. On a machine shared with other work the minimum is the figure that shows the code
// rather than the neighbours; a median over longer windows mixes in their load. Ratios are taken
// between figures of the same run.
double best_seconds(const BenchOptions& o, const std::function<void()>& fn) {
  fn();
  double best = std::numeric_limits<double>::infinity(), total = 0.0;
  const int min_calls = 20 * std::max(1, o.repeat);
  for (int calls = 0; calls < min_calls || total < 0.3; ++calls) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    const double s = seconds_since(t0);
    best = std::min(best, s);
    total += s;
  }
  return best;
}

// DESIGN.md's reference layer: nn.Linear(1024, 1024) on a batch of 256 (PyTorch 1.13: fp32 ~2.2 ms,
// dynamic int8 ~0.67 ms), and the same layer at batch 1.
std::vector<BenchResult> bench_layer(const BenchOptions& o) {
  constexpr int64_t M = 256, K = 1024, N = 1024;
  Generator gen(0);
  nn::Linear layer(K, N, true, gen);
  const Tensor x = Tensor::randn({M, K}, gen);
  const Tensor x1 = Tensor::randn({1, K}, gen);
  NoGradGuard no_grad;
  const QuantSpec w8 = QuantSpec::int8_symmetric_per_channel(0);
  const QuantSpec w4{4, quant::Scheme::Symmetric, quant::Granularity::PerChannel, 0, true};
  auto dynamic = QuantizedLinear::from_float(layer, w8, QuantMode::Dynamic);
  auto stat = QuantizedLinear::from_float(layer, w8, QuantMode::Static,
                                          quant::choose_qparams(x, QuantizedLinear::dynamic_input_spec()));
  auto int4 = QuantizedLinear::from_float(layer, w4, QuantMode::WeightOnly);

  const double fp32 = best_seconds(o, [&] { const Tensor y = layer(x); });
  const double dyn = best_seconds(o, [&] { const Tensor y = (*dynamic)(x); });
  const double st = best_seconds(o, [&] { const Tensor y = (*stat)(x); });
  const double wo4 = best_seconds(o, [&] { const Tensor y = (*int4)(x); });
  const double fp32_b1 = best_seconds(o, [&] { const Tensor y = layer(x1); });
  const double dyn_b1 = best_seconds(o, [&] { const Tensor y = (*dynamic)(x1); });
  const std::string shape = "Linear(1024, 1024) on (256, 1024)";
  return {
      {"linear_256x1024x1024_fp32", ms(fp32), "ms", shape + ", float32"},
      {"linear_256x1024x1024_dynamic_int8", ms(dyn), "ms",
       shape + ", int8 per-channel weights, uint8 inputs per batch"},
      {"linear_256x1024x1024_static_int8", ms(st), "ms", shape + ", calibrated uint8 inputs, int32 bias"},
      {"linear_256x1024x1024_weight_only_int4", ms(wo4), "ms",
       shape + ", packed int4, dequantized each call"},
      {"linear_dynamic_int8_speedup", fp32 / dyn, "x", "fp32 time / dynamic int8 time, same run"},
      {"linear_static_int8_speedup", fp32 / st, "x", "fp32 time / static int8 time, same run"},
      {"linear_b1_fp32", ms(fp32_b1), "ms", "Linear(1024, 1024) on (1, 1024), float32"},
      {"linear_b1_dynamic_int8", ms(dyn_b1), "ms", "Linear(1024, 1024) on (1, 1024), dynamic int8"},
  };
}

BenchResult bench_qgemm(const BenchOptions& o) {
  constexpr int64_t M = 256, N = 1024, K = 1024;
  Generator gen(1);
  std::vector<uint8_t> a(static_cast<size_t>(M * K));
  std::vector<int8_t> b(static_cast<size_t>(N * K));
  for (auto& v : a) v = static_cast<uint8_t>(gen.randint(256));
  for (auto& v : b) v = static_cast<int8_t>(static_cast<int>(gen.randint(256)) - 128);
  std::vector<int32_t> c(static_cast<size_t>(M * N));
  const double s = best_seconds(
      o, [&] { kernels::qgemm_u8s8(M, N, K, a.data(), K, b.data(), K, /*trans_b=*/true, c.data(), N); });
  return {"qgemm_u8s8_256x1024x1024", 2.0 * M * N * K / s / 1e9, "GOP/s",
          "uint8 x int8 -> int32, B as (N, K); " + kernels::qgemm_info()};
}

// The reference MLP 784-256-128-10 on 1000 test images (PyTorch 1.13: fp32 ~2.0 ms, dynamic int8
// ~0.94 ms; state 942 KB -> 240 KB). The weights are untrained: speed and size do not depend on them.
std::vector<BenchResult> bench_mlp(const BenchOptions& o) {
  Tensor images;
  std::string source;
  if (data::FashionMNIST::available()) {
    const data::FashionMNIST test(data::FashionMNIST::default_root(), false, 1000);
    std::vector<size_t> idx(test.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    images = test.get_batch(idx).data;
    source = "1000 Fashion-MNIST test images";
  } else {
    Generator gen(2);
    images = Tensor::rand({1000, 784}, gen);
    source = "1000 random images of Fashion-MNIST's shape";
  }
  Generator gen(0);
  auto fp32 = make_mlp({784, 256, 128, 10}, gen);
  Generator gen2(0);
  auto dyn = make_mlp({784, 256, 128, 10}, gen2);
  quant::quantize_model(*dyn, quant::QuantConfig{});
  Generator gen3(0);
  auto stat = make_mlp({784, 256, 128, 10}, gen3);
  quant::QuantConfig sc;
  sc.mode = QuantMode::Static;
  quant::quantize_model(*stat, sc, {images});
  fp32->eval();
  dyn->eval();
  stat->eval();
  NoGradGuard no_grad;
  const double f = best_seconds(o, [&] { const Tensor y = (*fp32)(images); });
  const double d = best_seconds(o, [&] { const Tensor y = (*dyn)(images); });
  const double s = best_seconds(o, [&] { const Tensor y = (*stat)(images); });
  const quant::SizeComparison size = quant::compare_model_sizes(*fp32, *dyn);
  return {
      {"mlp_infer_1000_fp32", ms(f), "ms", "784-256-128-10, one forward of " + source},
      {"mlp_infer_1000_dynamic_int8", ms(d), "ms", "the same, every Linear dynamic int8 per-channel"},
      {"mlp_infer_1000_static_int8", ms(s), "ms", "the same, static int8 (histogram observer), ReLU fused"},
      {"mlp_dynamic_int8_speedup", f / d, "x", "fp32 time / dynamic int8 time, same run"},
      {"mlp_bytes_fp32", static_cast<double>(size.a_bytes) / 1e3, "KB", "model_bytes: parameters as float32"},
      {"mlp_bytes_dynamic_int8", static_cast<double>(size.b_bytes) / 1e3, "KB",
       fmt::format("model_bytes: int8 weights, qparams, bias, column sums ({:.3f}x)", size.ratio)},
  };
}

std::vector<BenchResult> run_quant(const BenchOptions& o) {
  std::vector<BenchResult> out = bench_layer(o);
  out.push_back(bench_qgemm(o));
  for (BenchResult& r : bench_mlp(o)) out.push_back(std::move(r));
  return out;
}

const BenchSuiteRegistrar quant_suite(
    "quant",
    "QuantizedLinear (dynamic/static int8, weight-only int4) vs fp32 Linear, int8 GEMM, quantized MLP",
    run_quant);

}  // namespace

}  // namespace tinyml::cli

// The "quant" bench suite: QuantizedLinear in each mode against the float Linear, the int8 GEMM, the
// quantized MLP and its size.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench/suites/bench.hpp"
#include "cli/progress.hpp"
#include "cli/support.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/core/tensor.hpp"
#include "tinyml/data/fashion_mnist.hpp"
#include "tinyml/io/model_file.hpp"
#include "tinyml/kernels/qgemm.hpp"
#include "tinyml/kernels/qgemm_packed.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/quant/quantize_model.hpp"
#include "tinyml/quant/quantized_linear.hpp"
#include "tinyml/train/train.hpp"

namespace tinyml::cli {

using namespace tinyml::train;

namespace {

namespace fs = std::filesystem;
using quant::QuantizedLinear;
using quant::QuantMode;
using quant::QuantSpec;

// fp32 time / int8 time from the same run: from the medians (value) and from the fastest calls (best).
BenchResult speedup_result(std::string name, const Timing& fp32, const Timing& int8, std::string note) {
  return {.name = std::move(name),
          .value = fp32.median_s / int8.median_s,
          .unit = "x",
          .note = std::move(note),
          .best = fp32.min_s / int8.min_s,
          .samples = std::min(fp32.calls, int8.calls)};
}

// Bytes of the file io::save_model writes for `model` (the on-disk state, as torch.save measures it).
// Written in a folder of its own (mkdtemp: a new name, mode 0700), never at a predictable name in
// the shared temporary folder, where a planted link could redirect the save to another file.
double file_kb(const nn::Sequential& model, const std::string& tag) {
  std::string dir = (fs::temp_directory_path() / "tinyml_bench.XXXXXX").string();
  TINYML_CHECK(::mkdtemp(dir.data()) != nullptr, "bench: cannot create a temporary folder '{}': {}", dir,
               std::strerror(errno));
  const fs::path path = fs::path(dir) / fmt::format("{}.safetensors", tag);
  std::uintmax_t bytes = 0;
  try {
    io::save_model(model, path.string());
    bytes = fs::file_size(path);
  } catch (...) {
    fs::remove_all(dir);
    throw;
  }
  fs::remove_all(dir);
  return static_cast<double>(bytes) / 1e3;
}

// The reference layer of docs/performance.md's targets: nn.Linear(1024, 1024) on a batch of 256
// (PyTorch 1.13: fp32 ~2.2 ms, dynamic int8 ~0.67 ms), and the same layer at batch 1.
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
  auto dynamic4 = QuantizedLinear::from_float(layer, w4, QuantMode::Dynamic);

  const Timing fp32 = time_calls(o, [&] { const Tensor y = layer(x); });
  const Timing dyn = time_calls(o, [&] { const Tensor y = (*dynamic)(x); });
  const Timing st = time_calls(o, [&] { const Tensor y = (*stat)(x); });
  const Timing wo4 = time_calls(o, [&] { const Tensor y = (*int4)(x); });
  const Timing dyn4 = time_calls(o, [&] { const Tensor y = (*dynamic4)(x); });
  const Timing fp32_b1 = time_calls(o, [&] { const Tensor y = layer(x1); });
  const Timing dyn_b1 = time_calls(o, [&] { const Tensor y = (*dynamic)(x1); });
  const Timing dyn4_b1 = time_calls(o, [&] { const Tensor y = (*dynamic4)(x1); });
  const std::string shape = "Linear(1024, 1024) on (256, 1024)";
  return {
      ms_result("linear_256x1024x1024_fp32", fp32, shape + ", float32"),
      ms_result("linear_256x1024x1024_dynamic_int8", dyn,
                shape + ", int8 per-channel weights, uint8 inputs per batch"),
      ms_result("linear_256x1024x1024_static_int8", st, shape + ", calibrated uint8 inputs, int32 bias"),
      ms_result("linear_256x1024x1024_weight_only_int4", wo4, shape + ", packed int4, dequantized each call"),
      ms_result("linear_256x1024x1024_dynamic_int4", dyn4,
                shape + ", packed int4 per-channel weights widened each call, int8 GEMM"),
      speedup_result("linear_dynamic_int8_speedup", fp32, dyn, "fp32 time / dynamic int8 time, same run"),
      speedup_result("linear_static_int8_speedup", fp32, st, "fp32 time / static int8 time, same run"),
      ms_result("linear_b1_fp32", fp32_b1, "Linear(1024, 1024) on (1, 1024), float32"),
      ms_result("linear_b1_dynamic_int8", dyn_b1, "Linear(1024, 1024) on (1, 1024), dynamic int8"),
      ms_result("linear_b1_dynamic_int4", dyn4_b1, "Linear(1024, 1024) on (1, 1024), dynamic, packed int4"),
  };
}

std::vector<BenchResult> bench_qgemm(const BenchOptions& o) {
  constexpr int64_t M = 256, N = 1024, K = 1024;
  Generator gen(1);
  std::vector<uint8_t> a(static_cast<size_t>(M * K));
  std::vector<int8_t> b(static_cast<size_t>(N * K));
  for (auto& v : a) v = static_cast<uint8_t>(gen.randint(256));
  for (auto& v : b) v = static_cast<int8_t>(static_cast<int>(gen.randint(256)) - 128);
  std::vector<int32_t> c(static_cast<size_t>(M * N));
  const Timing t = time_calls(
      o, [&] { kernels::qgemm_u8s8(M, N, K, a.data(), K, b.data(), K, /*trans_b=*/true, c.data(), N); });
  std::vector<BenchResult> out{rate_result("qgemm_u8s8_256x1024x1024", 2.0 * M * N * K, t, "GOP/s",
                                           "uint8 x int8 -> int32, B as (N, K); " + kernels::qgemm_info())};
  // The same product with B packed once, as a dynamic or static int8 Linear runs it: the floor of
  // linear_256x1024x1024_dynamic_int8.
  if (const auto packed = kernels::PackedWeightS8::pack(N, K, b.data())) {
    const Timing tp = time_calls(o, [&] { packed->multiply_u8(M, a.data(), c.data()); });
    out.push_back(rate_result(
        "qgemm_packed_u8s8_256x1024x1024", 2.0 * M * N * K, tp, "GOP/s",
        "the same, B packed once for oneDNN's matmul (" + kernels::qgemm_packed_info(M, N, K) + ")"));
  }
  return out;
}

// The reference MLP 784-256-128-10 on 1000 test images (PyTorch 1.13: fp32 ~2.0 ms, dynamic int8
// ~0.94 ms; state 942 KB -> 240 KB). The weights are untrained: speed and size do not depend on them.
std::vector<BenchResult> bench_quantized_mlp(const BenchOptions& o) {
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
  const Timing f = time_calls(o, [&] { const Tensor y = (*fp32)(images); });
  const Timing d = time_calls(o, [&] { const Tensor y = (*dyn)(images); });
  const Timing s = time_calls(o, [&] { const Tensor y = (*stat)(images); });
  const quant::SizeComparison size = quant::compare_model_sizes(*fp32, *dyn);
  return {
      ms_result("mlp_infer_1000_fp32", f, "784-256-128-10, one forward of " + source),
      ms_result("mlp_infer_1000_dynamic_int8", d, "the same, every Linear dynamic int8 per-channel"),
      ms_result("mlp_infer_1000_static_int8", s, "the same, static int8 (histogram observer), ReLU fused"),
      speedup_result("mlp_dynamic_int8_speedup", f, d, "fp32 time / dynamic int8 time, same run"),
      plain_result("mlp_bytes_fp32", static_cast<double>(size.a_bytes) / 1e3, "KB",
                   "model_bytes: parameters as float32"),
      plain_result(
          "mlp_bytes_dynamic_int8", static_cast<double>(size.b_bytes) / 1e3, "KB",
          fmt::format("model_bytes: int8 weights, qparams, bias, column sums ({:.3f}x)", size.ratio)),
      plain_result("mlp_file_fp32", file_kb(*fp32, "fp32"), "KB", "io::save_model file of the fp32 MLP"),
      plain_result("mlp_file_dynamic_int8", file_kb(*dyn, "dynamic_int8"), "KB",
                   "io::save_model file of the dynamic int8 MLP (module tree and qparams in the header)"),
  };
}

std::vector<BenchResult> run_quant(const BenchOptions& o) {
  std::vector<BenchResult> out = bench_layer(o);
  for (BenchResult& r : bench_qgemm(o)) out.push_back(std::move(r));
  for (BenchResult& r : bench_quantized_mlp(o)) out.push_back(std::move(r));
  return out;
}

}  // namespace

BenchSuite quant_bench_suite() {
  return {"quant",
          "QuantizedLinear (dynamic/static int8, dynamic and weight-only int4) vs fp32 Linear, int8 GEMM, "
          "quantized MLP, "
          "sizes",
          run_quant};
}

}  // namespace tinyml::cli

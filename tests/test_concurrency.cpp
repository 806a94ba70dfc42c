// Concurrency: the threading contract of docs/threads.md — eval-mode forward under NoGradGuard of one
// float or quantized model from several threads at once gives the single-thread bits.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/bits.hpp"
#include "tests/support/quantized_models.hpp"
#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/kernels/sgemm.hpp"
#include "tinyml/nn/activation.hpp"
#include "tinyml/nn/linear.hpp"
#include "tinyml/nn/sequential.hpp"
#include "tinyml/quant/calibrate.hpp"
#include "tinyml/quant/histogram_observer.hpp"
#include "tinyml/quant/quantized_linear.hpp"

namespace {

using tinyml::Generator;
using tinyml::Tensor;
namespace nn = tinyml::nn;
namespace q = tinyml::quant;
namespace kernels = tinyml::kernels;

constexpr int kThreads = 4;

using tinyml_test::same_bits;

// ---------------------------------------------------------------- the four models

using tinyml_test::replace_linears;

struct Models {
  std::vector<std::string> names;
  std::vector<std::shared_ptr<nn::Sequential>> models;
};

// A 64-128-64-10 MLP as fp32, dynamic int8, static int8 (calibrated with the default histogram
// observer) and int4 weight-only; weights quantized symmetric per output channel.
Models make_models() {
  Generator gen(7);
  auto fp32 = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(64, 128, true, gen), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(128, 64, true, gen), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(64, 10, true, gen));
  fp32->eval();
  std::vector<Tensor> calibration;
  for (int i = 0; i < 4; ++i) calibration.push_back(Tensor::randn({32, 64}, gen));
  const q::CalibrationResult calib = q::calibrate(*fp32, calibration);
  const q::QuantSpec int8 = q::QuantSpec::int8_symmetric_per_channel(0);
  const q::QuantSpec int4{4, q::Scheme::Symmetric, q::Granularity::PerChannel, 0, true};
  return {{"fp32", "dynamic-int8", "static-int8", "weight-only-int4"},
          {fp32, replace_linears(*fp32, q::QuantMode::Dynamic, int8, nullptr),
           replace_linears(*fp32, q::QuantMode::Static, int8, &calib),
           replace_linears(*fp32, q::QuantMode::WeightOnly, int4, nullptr)}};
}

// Per thread, its own inputs: a batch of 16 (the GEMM path), of 1 (the gemv path) and of 5.
std::vector<std::vector<Tensor>> make_inputs() {
  std::vector<std::vector<Tensor>> in(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    Generator gen(100 + static_cast<uint64_t>(t));
    for (int64_t rows : {16, 1, 5}) in[static_cast<size_t>(t)].push_back(Tensor::randn({rows, 64}, gen));
  }
  return in;
}

// ref[m][t][k]: model m on thread t's input k, computed on this thread alone.
using Reference = std::vector<std::vector<std::vector<std::vector<float>>>>;

Reference single_thread_reference(const Models& ms, const std::vector<std::vector<Tensor>>& inputs) {
  tinyml::NoGradGuard no_grad;
  Reference ref(ms.models.size());
  for (size_t m = 0; m < ms.models.size(); ++m)
    for (const auto& per_thread : inputs) {
      ref[m].emplace_back();
      for (const Tensor& x : per_thread) ref[m].back().push_back((*ms.models[m])(x).to_vector());
    }
  return ref;
}

struct Outcome {
  std::atomic<int64_t> forwards{0};
  std::atomic<int64_t> mismatches{0};
  std::mutex mutex;
  std::vector<std::string> errors;  // first mismatch per model, and any exception
};

// kThreads threads, each running every model on its own inputs `iterations` times.
void run_concurrently(const Models& ms, const std::vector<std::vector<Tensor>>& inputs, const Reference& ref,
                      int iterations, Outcome& out) {
  std::atomic<int> ready{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      // Grad mode is per thread: a guard on the caller's thread would not reach this one.
      tinyml::NoGradGuard no_grad;
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();  // start together, to overlap
      try {
        for (int it = 0; it < iterations; ++it)
          for (size_t m = 0; m < ms.models.size(); ++m)
            for (size_t k = 0; k < inputs[static_cast<size_t>(t)].size(); ++k) {
              const std::vector<float> y = (*ms.models[m])(inputs[static_cast<size_t>(t)][k]).to_vector();
              ++out.forwards;
              if (!same_bits(y, ref[m][static_cast<size_t>(t)][k]) && out.mismatches++ < 4) {
                const std::lock_guard<std::mutex> lock(out.mutex);
                out.errors.push_back(ms.names[m] + ": thread " + std::to_string(t) + " input " +
                                     std::to_string(k) + " iteration " + std::to_string(it) +
                                     " differs from the single-thread bits");
              }
            }
      } catch (const std::exception& e) {
        const std::lock_guard<std::mutex> lock(out.mutex);
        out.errors.push_back(std::string("thread ") + std::to_string(t) + " threw: " + e.what());
      }
    });
  }
  for (auto& th : pool) th.join();
}

// ---------------------------------------------------------------- tests

TEST(Concurrency, ForwardOfOneModelFromFourThreadsGivesTheSingleThreadBits) {
  const Models ms = make_models();
  const auto inputs = make_inputs();
  const Reference ref = single_thread_reference(ms, inputs);
  Outcome out;
  run_concurrently(ms, inputs, ref, 100, out);
  EXPECT_EQ(out.forwards.load(), int64_t{kThreads} * 100 * 4 * 3);
  EXPECT_EQ(out.mismatches.load(), 0);
  for (const auto& e : out.errors) ADD_FAILURE() << e;
}

// The kernels' own threads inside concurrent callers: OpenBLAS shares one process-wide thread pool
// between them, and oneDNN (OpenMP) starts a team per calling thread, sized by that thread's own
// OpenMP setting (set_num_threads reaches only the calling thread's; see docs/threads.md). The
// shapes here give the same bits for one and two threads, so any difference would be a race.
TEST(Concurrency, ConcurrentCallersWithTwoKernelThreadsEach) {
  const int prev = kernels::num_threads();
  kernels::set_num_threads(2);
  const Models ms = make_models();
  const auto inputs = make_inputs();
  const Reference ref = single_thread_reference(ms, inputs);
  Outcome out;
  run_concurrently(ms, inputs, ref, 25, out);
  kernels::set_num_threads(prev);
  EXPECT_EQ(out.mismatches.load(), 0);
  for (const auto& e : out.errors) ADD_FAILURE() << e;
}

// Inputs that fail their checks in some threads while other threads run the same model: an error
// stays in the thread that caused it and the model keeps working for everyone.
TEST(Concurrency, AnErrorInOneThreadDoesNotDisturbTheOthers) {
  const Models ms = make_models();
  const auto inputs = make_inputs();
  const Reference ref = single_thread_reference(ms, inputs);
  std::atomic<int64_t> errors{0};
  std::atomic<int64_t> mismatches{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      tinyml::NoGradGuard no_grad;
      const Tensor wrong = Tensor::zeros({3, 63});
      for (int it = 0; it < 25; ++it)
        for (size_t m = 0; m < ms.models.size(); ++m) {
          if (t % 2 == 1) {
            try {
              (*ms.models[m])(wrong);
            } catch (const tinyml::Error&) {
              ++errors;
            }
          } else if (!same_bits((*ms.models[m])(inputs[static_cast<size_t>(t)][0]).to_vector(),
                                ref[m][static_cast<size_t>(t)][0])) {
            ++mismatches;
          }
        }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_EQ(errors.load(), int64_t{2} * 25 * 4);  // every bad call threw, in the thread that made it
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(Concurrency, GradModeIsPerThread) {
  tinyml::NoGradGuard off_here;
  ASSERT_FALSE(tinyml::GradMode::is_enabled());
  bool other_thread_enabled = false;
  bool other_thread_after_guard = true;
  std::thread([&] {
    other_thread_enabled = tinyml::GradMode::is_enabled();  // untouched by this thread's guard
    tinyml::NoGradGuard off_there;
    other_thread_after_guard = tinyml::GradMode::is_enabled();
  }).join();
  EXPECT_TRUE(other_thread_enabled);
  EXPECT_FALSE(other_thread_after_guard);
  // So a forward on another thread records a graph unless that thread has its own guard.
  Generator gen(1);
  nn::Linear lin(3, 2, true, gen);
  bool recorded = false;
  std::thread([&] { recorded = lin(Tensor::ones({1, 3})).requires_grad(); }).join();
  EXPECT_TRUE(recorded);
}

// An observer's const accessors (range(), qparams()) share one lazily computed search; several
// threads reading them at once must all get the same answer.
TEST(Concurrency, ObserverConstAccessorsFromManyThreads) {
  Generator gen(3);
  q::HistogramObserver obs;
  for (int i = 0; i < 4; ++i) obs.observe(Tensor::randn({512}, gen));
  std::vector<q::QParams> got(kThreads);
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t)
    pool.emplace_back([&, t] { got[static_cast<size_t>(t)] = obs.qparams(); });
  for (auto& th : pool) th.join();
  const q::QParams expected = obs.qparams();
  for (const auto& qp : got) {
    EXPECT_EQ(qp.scale, expected.scale);
    EXPECT_EQ(qp.zero_point, expected.zero_point);
  }
}

}  // namespace

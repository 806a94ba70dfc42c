// `tinyml bench` suites: a registry of named suites, each a function returning timed results.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tinyml::cli {

struct BenchOptions {
  int threads = 1;    // already applied to the kernels when a suite runs; recorded for notes
  int repeat = 3;     // every figure is the median of this many measurements
  int64_t limit = 0;  // > 0: train/evaluate on at most this many examples (quick runs)
};

struct BenchResult {
  std::string name;  // stable machine-readable key, e.g. "sgemm_256x1024x1024"
  double value = 0.0;
  std::string unit;  // "GFLOP/s", "ms", "s", "%"
  std::string note;  // what exactly was measured, when the name does not say it all
};

using BenchSuiteFn = std::function<std::vector<BenchResult>(const BenchOptions&)>;

struct BenchSuite {
  std::string name;
  std::string description;
  BenchSuiteFn run;
};

// Adds a suite that `tinyml bench --suite <name>` can run. A suite in another file registers
// itself with a namespace-scope `const BenchSuiteRegistrar r("quant", "...", fn);`, which runs
// before main() parses the command line; no other file needs to change.
void add_bench_suite(std::string name, std::string description, BenchSuiteFn run);
const std::vector<BenchSuite>& bench_suites();

struct BenchSuiteRegistrar {
  BenchSuiteRegistrar(std::string name, std::string description, BenchSuiteFn run) {
    add_bench_suite(std::move(name), std::move(description), std::move(run));
  }
};

// Seconds per call of `fn`: one warm-up call, then options.repeat measurements, each calling `fn`
// until at least `min_seconds` have passed (at least once); the median of the measurements.
double seconds_per_call(const BenchOptions& options, const std::function<void()>& fn,
                        double min_seconds = 0.2);

}  // namespace tinyml::cli

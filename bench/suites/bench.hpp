// `tinyml bench` suites: a registry of named suites, each a function returning timed results.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tinyml::cli {

struct BenchOptions {
  int threads = 1;        // already applied to the kernels when a suite runs; recorded for notes
  int repeat = 5;         // timed calls per micro-benchmark (at least); epochs of the training figure
  double min_time = 0.3;  // seconds of timed calls per micro-benchmark (at least)
  int64_t limit = 0;      // > 0: train on at most this many examples (quick runs)
};

struct BenchResult {
  std::string name;     // stable machine-readable key, e.g. "sgemm_256x1024x1024"
  double value = 0.0;   // a timing: the figure from the median time
  std::string unit;     // "GFLOP/s", "ms", "s", "%", "KB", "x"
  std::string note;     // what exactly was measured, when the name does not say it all
  double best = 0.0;    // a timing: the same figure from the fastest call; 0 for anything else
  int64_t samples = 0;  // a timing: the timed calls (or epochs) behind value and best
};

// The time of one call of a function, over many calls.
struct Timing {
  double median_s = 0.0;
  double min_s = 0.0;
  int64_t calls = 0;  // timed calls, after the warm-up
};

using BenchSuiteFn = std::function<std::vector<BenchResult>(const BenchOptions&)>;

struct BenchSuite {
  std::string name;
  std::string description;
  BenchSuiteFn run;
};

// The suites `tinyml bench --suite <name>` can run, in the order `--suite all` runs them (names of
// results must be unique across suites). The built-in suites are listed in cmd_bench.cpp by
// calling the functions below: the CLI is a static library, so a file that only registered itself
// from a static initialiser would never be linked into the program.
const std::vector<BenchSuite>& bench_suites();
// Adds a suite at run time (after the built-in ones); the name must be new and not "all".
void add_bench_suite(std::string name, std::string description, BenchSuiteFn run);

BenchSuite core_bench_suite();   // bench_core.cpp
BenchSuite quant_bench_suite();  // bench_quant.cpp
BenchSuite tiny_bench_suite();   // bench_tiny.cpp

// Times `fn`: warm-up calls for a tenth of options.min_time (at least one: first touch of
// buffers, thread start-up, oneDNN's kernel generation), then single timed calls until there are
// at least options.repeat of them and options.min_time seconds have passed. Every call is timed on
// its own, so the median and the minimum are both per call. The minimum is the figure that shows
// the code rather than the neighbours on a shared machine; the median shows what a user gets.
Timing time_calls(const BenchOptions& options, const std::function<void()>& fn);

// Results from a Timing: milliseconds per call, or `work / seconds / 1e9` (GFLOP/s, GOP/s).
BenchResult ms_result(std::string name, const Timing& t, std::string note);
BenchResult rate_result(std::string name, double work, const Timing& t, std::string unit, std::string note);
// A figure that is not a timing (a size, an accuracy, a ratio).
BenchResult plain_result(std::string name, double value, std::string unit, std::string note);

}  // namespace tinyml::cli

// `tinyml bench`: the suite registry, the timer, machine information and the table / JSON report.
#include <fmt/format.h>
#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/suites/bench.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "cli/support.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/kernels/qgemm.hpp"
#include "tinyml/kernels/sgemm.hpp"
#include "tinyml/train/train.hpp"

namespace tinyml::cli {

using namespace tinyml::train;

namespace {

// `--suite all` runs every registered suite; no suite may take this name.
constexpr const char* kAllSuites = "all";

std::vector<BenchSuite>& registry() {
  static std::vector<BenchSuite> suites = {core_bench_suite(), quant_bench_suite(), tiny_bench_suite()};
  return suites;
}

std::string os_name() {
  utsname u{};
  if (::uname(&u) != 0) return "unknown OS";
  return fmt::format("{} {} {}", u.sysname, u.release, u.machine);
}

struct BenchCommandOptions {
  std::string suite = "core";
  int threads = 1;
  int repeat = 5;
  double min_time = 0.3;
  int64_t limit = 0;
  bool quick = false;
  bool json = false;
};

// A figure for the human table: timings show their median-based value and their best.
std::string format_row(const BenchResult& r, size_t w) {
  const std::string best = r.samples > 0 ? fmt::format("{:>10.3f}", r.best) : fmt::format("{:>10}", "");
  return fmt::format("{:<{}}  {:>10.3f}  {}  {:<8} {}", r.name, w, r.value, best, r.unit, r.note);
}

void run_bench(const BenchCommandOptions& o) {
  const auto& suites = bench_suites();
  std::vector<const BenchSuite*> chosen;
  for (const BenchSuite& s : suites)
    if (o.suite == kAllSuites || s.name == o.suite) chosen.push_back(&s);
  TINYML_CHECK(!chosen.empty(), "bench: unknown suite '{}'", o.suite);
  apply_threads(o.threads);

  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  const std::string warning = kernels::blas_warning();
  nlohmann::ordered_json machine = {
      {"cpu", cpu_model()},
      {"logical_cpus", std::thread::hardware_concurrency()},
      {"os", os_name()},
      {"blas", kernels::blas_info()},
      {"int8", kernels::qgemm_info()},
      {"threads", kernels::num_threads()},
      {"openblas_coretype",
       coretype != nullptr ? nlohmann::ordered_json(coretype) : nlohmann::ordered_json(nullptr)},
      {"blas_warning", warning},
  };
  if (!o.json) {
    fmt::print("machine   {}, {} logical CPUs, {}\n", machine["cpu"].get<std::string>(),
               std::thread::hardware_concurrency(), machine["os"].get<std::string>());
    fmt::print("blas      {}\n", kernels::blas_info());
    fmt::print("int8      {}\n", kernels::qgemm_info());
    fmt::print("env       OPENBLAS_CORETYPE={}\n", coretype != nullptr ? coretype : "(unset)");
    if (!warning.empty()) fmt::print("warning   {}\n", warning);
    fmt::print("timing    {} thread{}; each timing: warm-up, then at least {} calls and {:g} s of them;\n",
               kernels::num_threads(), kernels::num_threads() == 1 ? "" : "s", o.repeat, o.min_time);
    fmt::print("          'value' from the median call, 'best' from the fastest\n");
    std::fflush(stdout);
  }

  const BenchOptions options{
      .threads = o.threads, .repeat = o.repeat, .min_time = o.min_time, .limit = o.limit};
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  std::set<std::string> seen;
  for (const BenchSuite* suite : chosen) {
    if (!o.json) {
      fmt::print("\nsuite     {}: {}\n", suite->name, suite->description);
      std::fflush(stdout);
    }
    const std::vector<BenchResult> results = suite->run(options);
    for (const BenchResult& r : results)
      TINYML_CHECK(seen.insert(r.name).second,
                   "bench: suite '{}' reports '{}', which another suite reported too", suite->name, r.name);
    if (o.json) {
      for (const BenchResult& r : results) {
        nlohmann::ordered_json row = {
            {"name", r.name}, {"suite", suite->name}, {"value", r.value}, {"unit", r.unit}};
        if (r.samples > 0) {
          row["best"] = r.best;
          row["samples"] = r.samples;
        }
        if (!r.note.empty()) row["note"] = r.note;
        rows.push_back(row);
      }
    } else {
      size_t w = 4;
      for (const BenchResult& r : results) w = std::max(w, r.name.size());
      fmt::print("{:<{}}  {:>10}  {:>10}  {:<8} {}\n", "name", w, "value", "best", "unit", "note");
      for (const BenchResult& r : results) fmt::print("{}\n", format_row(r, w));
      std::fflush(stdout);
    }
  }
  if (o.json) {
    const nlohmann::ordered_json out = {{"suite", o.suite}, {"repeat", o.repeat}, {"min_time", o.min_time},
                                        {"limit", o.limit}, {"machine", machine}, {"results", rows}};
    fmt::print("{}\n", out.dump());
  }
}

// Validated against the registry when the option is parsed, so suites added by other files count.
CLI::Validator suite_validator() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        if (s == kAllSuites) return {};
        std::string names;
        for (const BenchSuite& suite : bench_suites()) {
          if (suite.name == s) return {};
          names += suite.name + ", ";
        }
        return "unknown suite '" + s + "'; available: " + names + kAllSuites;
      },
      "SUITE");
}

}  // namespace

void add_bench_suite(std::string name, std::string description, BenchSuiteFn run) {
  auto& suites = registry();
  TINYML_CHECK(name != kAllSuites, "add_bench_suite: '{}' is reserved for running every suite", name);
  for (const BenchSuite& s : suites)
    TINYML_CHECK(s.name != name, "add_bench_suite: a suite named '{}' is already registered", name);
  suites.push_back({std::move(name), std::move(description), std::move(run)});
}

const std::vector<BenchSuite>& bench_suites() { return registry(); }

Timing time_calls(const BenchOptions& options, const std::function<void()>& fn) {
  using clock = std::chrono::steady_clock;
  const double min_time = std::max(0.0, options.min_time);
  const auto warm_start = clock::now();
  do {
    fn();
  } while (seconds_since(warm_start) < 0.1 * min_time);

  std::vector<double> per_call;
  const auto start = clock::now();
  const auto min_calls = static_cast<size_t>(std::max(1, options.repeat));
  while (per_call.size() < min_calls || seconds_since(start) < min_time) {
    const auto t0 = clock::now();
    fn();
    per_call.push_back(seconds_since(t0));
  }
  Timing t;
  t.min_s = *std::min_element(per_call.begin(), per_call.end());
  t.calls = static_cast<int64_t>(per_call.size());
  t.median_s = median(std::move(per_call));
  return t;
}

BenchResult ms_result(std::string name, const Timing& t, std::string note) {
  return {.name = std::move(name),
          .value = t.median_s * 1e3,
          .unit = "ms",
          .note = std::move(note),
          .best = t.min_s * 1e3,
          .samples = t.calls};
}

BenchResult rate_result(std::string name, double work, const Timing& t, std::string unit, std::string note) {
  return {.name = std::move(name),
          .value = work / t.median_s / 1e9,
          .unit = std::move(unit),
          .note = std::move(note),
          .best = work / t.min_s / 1e9,
          .samples = t.calls};
}

BenchResult plain_result(std::string name, double value, std::string unit, std::string note) {
  return {.name = std::move(name), .value = value, .unit = std::move(unit), .note = std::move(note)};
}

void register_bench(CLI::App& app) {
  auto o = std::make_shared<BenchCommandOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Time the kernels and the reference workload on this machine");
  std::string suites;
  for (const BenchSuite& s : bench_suites()) suites += s.name + " | ";
  cmd->add_option("--suite", o->suite, "Which suite: " + suites + kAllSuites + " (every suite)")
      ->check(suite_validator())
      ->capture_default_str();
  add_threads_option(cmd, o->threads);
  CLI::Option* repeat = cmd->add_option("--repeat", o->repeat,
                                        "Timed calls per figure, at least; epochs for the training figure")
                            ->check(int_at_least(1))
                            ->capture_default_str();
  CLI::Option* min_time =
      cmd->add_option("--min-time", o->min_time, "Seconds of timed calls per figure, at least")
          ->check(number_in(0.0, 3600.0, false, "a number of seconds in [0, 3600]"))
          ->capture_default_str();
  CLI::Option* limit =
      cmd->add_option("--limit", o->limit, "Train on at most N examples (a quick, partial epoch)")
          ->check(int_at_least(1));
  cmd->add_flag("--quick", o->quick,
                "A smoke run, figures meaningless: --repeat 1 --min-time 0 --limit 1000 unless given");
  cmd->add_flag("--json", o->json,
                "Print {suite, repeat, min_time, limit, machine, results: [{name, suite, value, unit, best, "
                "samples, note}]}");
  cmd->callback([o, repeat, min_time, limit] {
    BenchCommandOptions run = *o;
    if (run.quick) {
      if (repeat->count() == 0) run.repeat = 1;
      if (min_time->count() == 0) run.min_time = 0.0;
      if (limit->count() == 0) run.limit = 1000;
    }
    run_bench(run);
  });
}

}  // namespace tinyml::cli

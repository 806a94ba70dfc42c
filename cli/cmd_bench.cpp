// `tinyml bench`: the suite registry, machine information and the table / JSON report.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench.hpp"
#include "commands.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/kernels/sgemm.hpp"
#include "workload.hpp"

namespace tinyml::cli {

namespace {

// A function-local static: suites register from static initialisers of other files, whose order
// relative to this file's globals is unspecified.
std::vector<BenchSuite>& registry() {
  static std::vector<BenchSuite> suites;
  return suites;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string v = line.substr(colon + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        return v;
      }
    }
  }
  return "unknown CPU";
}

struct BenchCommandOptions {
  std::string suite = "core";
  int threads = 1;
  int repeat = 3;
  int64_t limit = 0;
  bool json = false;
};

void run_bench(const BenchCommandOptions& o) {
  const auto& suites = bench_suites();
  const auto it =
      std::find_if(suites.begin(), suites.end(), [&](const BenchSuite& s) { return s.name == o.suite; });
  TINYML_CHECK(it != suites.end(), "bench: unknown suite '{}'", o.suite);
  apply_threads(o.threads);

  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  const std::string warning = kernels::blas_warning();
  nlohmann::ordered_json machine = {
      {"cpu", cpu_model()},
      {"logical_cpus", std::thread::hardware_concurrency()},
      {"blas", kernels::blas_info()},
      {"threads", kernels::num_threads()},
      {"openblas_coretype",
       coretype != nullptr ? nlohmann::ordered_json(coretype) : nlohmann::ordered_json(nullptr)},
      {"blas_warning", warning},
  };
  if (!o.json) {
    fmt::print("machine   {}, {} logical CPUs\n", machine["cpu"].get<std::string>(),
               std::thread::hardware_concurrency());
    fmt::print("blas      {}\n", kernels::blas_info());
    fmt::print("env       OPENBLAS_CORETYPE={}\n", coretype != nullptr ? coretype : "(unset)");
    if (!warning.empty()) fmt::print("warning   {}\n", warning);
    fmt::print("suite     {}: {} (median of {} runs)\n\n", it->name, it->description, o.repeat);
    std::fflush(stdout);
  }

  const BenchOptions options{.threads = o.threads, .repeat = o.repeat, .limit = o.limit};
  const std::vector<BenchResult> results = it->run(options);

  if (o.json) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const BenchResult& r : results) {
      nlohmann::ordered_json row = {{"name", r.name}, {"value", r.value}, {"unit", r.unit}};
      if (!r.note.empty()) row["note"] = r.note;
      rows.push_back(row);
    }
    const nlohmann::ordered_json out = {
        {"suite", it->name}, {"repeat", o.repeat}, {"machine", machine}, {"results", rows}};
    fmt::print("{}\n", out.dump());
  } else {
    size_t w = 4;
    for (const BenchResult& r : results) w = std::max(w, r.name.size());
    fmt::print("{:<{}}  {:>10}  {:<8} {}\n", "name", w, "value", "unit", "note");
    for (const BenchResult& r : results)
      fmt::print("{:<{}}  {:>10.3f}  {:<8} {}\n", r.name, w, r.value, r.unit, r.note);
  }
}

// Validated against the registry when the option is parsed, so suites added by other files count.
CLI::Validator suite_validator() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        std::string names;
        for (const BenchSuite& suite : bench_suites()) {
          if (suite.name == s) return {};
          names += (names.empty() ? "" : ", ") + suite.name;
        }
        return "unknown suite '" + s + "'; available: " + names;
      },
      "SUITE");
}

}  // namespace

void add_bench_suite(std::string name, std::string description, BenchSuiteFn run) {
  auto& suites = registry();
  for (const BenchSuite& s : suites)
    TINYML_CHECK(s.name != name, "add_bench_suite: a suite named '{}' is already registered", name);
  suites.push_back({std::move(name), std::move(description), std::move(run)});
}

const std::vector<BenchSuite>& bench_suites() { return registry(); }

double seconds_per_call(const BenchOptions& options, const std::function<void()>& fn, double min_seconds) {
  fn();  // warm-up: first-touch of buffers, BLAS thread start-up
  std::vector<double> per_call;
  for (int r = 0; r < std::max(1, options.repeat); ++r) {
    int calls = 0;
    const auto t0 = std::chrono::steady_clock::now();
    double elapsed = 0.0;
    do {
      fn();
      ++calls;
      elapsed = seconds_since(t0);
    } while (elapsed < min_seconds);
    per_call.push_back(elapsed / calls);
  }
  return median(per_call);
}

void register_bench(CLI::App& app) {
  auto o = std::make_shared<BenchCommandOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Time the kernels and the reference workload on this machine");
  std::string suites;
  for (const BenchSuite& s : bench_suites()) suites += (suites.empty() ? "" : " | ") + s.name;
  cmd->add_option("--suite", o->suite, "Which suite: " + suites)
      ->check(suite_validator())
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "kernel threads (OpenBLAS and oneDNN); default 1, 0 = all cores")
      ->check(int_at_least(0))
      ->capture_default_str();
  cmd->add_option("--repeat", o->repeat, "Measurements per figure (the median is reported)")
      ->check(int_at_least(1))
      ->capture_default_str();
  cmd->add_option("--limit", o->limit, "Use at most N training examples (a quick, partial epoch)")
      ->check(int_at_least(1));
  cmd->add_flag("--json", o->json, "Print {suite, repeat, machine, results: [{name, value, unit, note}]}");
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace tinyml::cli

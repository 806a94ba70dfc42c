#include "cli/support.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tinyml/core/error.hpp"
#include "tinyml/core/file.hpp"
#include "tinyml/kernels/sgemm.hpp"

namespace tinyml::cli {

void print_now(const std::string& text) {
  fmt::print("{}", text);
  std::fflush(stdout);
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

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    v.erase(0, v.find_first_not_of(" \t"));
    return v;
  }
  return "unknown CPU";
}

void apply_threads(int threads) {
  // One thread by default: the MLP's matrices are small, and oneDNN's OpenMP threads spin-wait,
  // so on a 2-core machine shared with anything else two threads ran an epoch 3-8x slower.
  TINYML_CHECK(threads >= 0, "--threads must be >= 0 (0 = all cores), got {}", threads);
  kernels::set_num_threads(threads);
}

void check_output_file(const std::string& in, const std::string& out, bool force, const char* command) {
  check_save_target(out, fmt::format("{} --out {}", command, out));
  std::error_code ec;
  TINYML_CHECK(force || !std::filesystem::equivalent(in, out, ec),
               "{}: --out '{}' is the input model '{}', which would be replaced; pass --force to do so",
               command, out, in);
}

}  // namespace tinyml::cli

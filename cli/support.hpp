// Small helpers the `tinyml` commands share: list options, --threads, timing, output.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace tinyml::cli {

// How a command prints its results: text for people, or JSON (--json) for programs.
enum class OutputFormat { Text, Json };
inline OutputFormat format_of(bool json) { return json ? OutputFormat::Json : OutputFormat::Text; }

// One epoch of a training command (train, qat): its time, mean training loss and test accuracy
// (for qat, of the fake-quantized model).
struct EpochRow {
  int64_t epoch = 0;
  double epoch_s = 0.0;
  double train_loss = 0.0;
  double test_acc = 0.0;
};

// Prints `text` on stdout and flushes it, so that it shows before the work that follows (and before
// an error message on stderr).
void print_now(const std::string& text);

// "0, 4,last" → {"0", "4", "last"}: items of a comma-separated option, trimmed, empty ones dropped.
std::vector<std::string> split_list(const std::string& s);

// Seconds since `start`.
double seconds_since(std::chrono::steady_clock::time_point start);

// The median of `values` (the mean of the middle two for an even count); 0 for none.
double median(std::vector<double> values);

// The CPU's model name from /proc/cpuinfo ("AMD EPYC ..."), or "unknown CPU".
std::string cpu_model();

// Applies --threads: n > 0 uses n threads, 0 all cores (the default of every command is 1).
// Throws tinyml::Error for n < 0.
void apply_threads(int threads);

// Checked before any work: `out` can be saved to (core/file.hpp: check_save_target), and is not the
// file `in` unless `force` (replacing the float model by its quantized copy is rarely meant).
void check_output_file(const std::string& in, const std::string& out, bool force, const char* command);

}  // namespace tinyml::cli

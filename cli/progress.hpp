// A progress line on stderr for the long loops of the `tinyml` commands (training epochs, sweeps).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "tinyml/train/evaluate.hpp"

namespace tinyml::cli {

// Reports progress of a long loop on stderr. Nothing is shown during the first half second, so
// quick loops stay silent. Then, on a terminal, the line is redrawn in place at most ten times a
// second; elsewhere (a log file) a line is written at each quarter. A disabled bar prints nothing
// (--json, --quiet).
class ProgressBar {
 public:
  ProgressBar(std::string label, size_t total, bool enabled);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  // `done` steps of `total` are complete; `status` is appended to the line ("loss 0.4312").
  void update(size_t done, const std::string& status = {});
  // Clears the in-place line (on a terminal) so the caller's own output starts on a clean line.
  void finish();
  // A train_epoch progress callback that shows the step and the running loss on this bar, which
  // must outlive the epoch.
  train::Progress epoch_progress();

 private:
  void draw(size_t done, const std::string& status);

  std::string label_;
  size_t total_;
  bool enabled_;
  bool tty_;
  bool drawn_ = false;
  size_t next_quarter_ = 1;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace tinyml::cli

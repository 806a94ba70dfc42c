#include "cli/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace tinyml::cli {

ProgressBar::ProgressBar(std::string label, size_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled && total > 0),
      tty_(isatty(fileno(stderr)) == 1),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(size_t done, const std::string& status) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - start_ < std::chrono::milliseconds(500)) return;
  if (tty_) {
    // Redrawing more often than the eye can read costs time in a tight training loop.
    if (done < total_ && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    draw(done, status);
  } else if (done * 4 >= next_quarter_ * total_) {
    while (next_quarter_ <= 4 && done * 4 >= next_quarter_ * total_) ++next_quarter_;
    draw(done, status);
  }
}

void ProgressBar::draw(size_t done, const std::string& status) {
  constexpr size_t kWidth = 30;
  const size_t filled = std::min(kWidth, done * kWidth / total_);
  const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  const std::string line = fmt::format("{} [{}] {}/{} {}", label_, bar, done, total_, status);
  if (tty_)
    fmt::print(stderr, "\r{}\x1b[K", line);  // ESC[K clears what a longer previous line left
  else
    fmt::print(stderr, "{}\n", line);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (enabled_ && tty_ && drawn_) {
    fmt::print(stderr, "\r\x1b[K");
    std::fflush(stderr);
  }
  drawn_ = false;
}

train::Progress ProgressBar::epoch_progress() {
  // Formatting the status costs a little; a disabled bar (--json) skips it.
  return [this](size_t step, size_t, double mean_loss) {
    if (enabled_) update(step, fmt::format("loss {:.4f}", mean_loss));
  };
}

}  // namespace tinyml::cli

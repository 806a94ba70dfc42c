// Histograms of calibrated activations as the lab's figures and tables show them.
#pragma once

#include <cstddef>

#include "tinyml/plot/svg.hpp"
#include "tinyml/quant/calibrate.hpp"

namespace tinyml::cli {

// calibrate()'s histogram of one layer's inputs as bins: st.histogram.size() equal bins over
// [st.hist_lo, st.hist_hi].
plot::Bins calibration_bins(const quant::LayerStats& st);

// A histogram cut after its last non-empty bin, and the group size that sums it into about `bars`
// (>= 1) bars: the calibration histogram spans a range rounded out past the largest value, and
// the pictures show the data. One group of empty bins is kept as a margin.
struct TrimmedBins {
  plot::Bins bins;  // the kept bins, a whole number of groups where the histogram is long enough
  size_t factor = 1;
};
TrimmedBins trim_empty_tail(const plot::Bins& h, size_t bars);

}  // namespace tinyml::cli

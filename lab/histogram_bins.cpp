#include "lab/histogram_bins.hpp"

#include <algorithm>

#include "tinyml/core/error.hpp"

namespace tinyml::cli {

plot::Bins calibration_bins(const quant::LayerStats& st) {
  plot::Bins b;
  b.edges = st.bin_edges();
  for (int64_t c : st.histogram) b.counts.push_back(static_cast<double>(c));
  return b;
}

TrimmedBins trim_empty_tail(const plot::Bins& h, size_t bars) {
  TINYML_CHECK(bars >= 1 && !h.counts.empty() && h.edges.size() == h.counts.size() + 1,
               "trim_empty_tail: needs bars >= 1 and one more edge than counts, got {} bars, {} edges, {} "
               "counts",
               bars, h.edges.size(), h.counts.size());
  TrimmedBins t{h, 1};
  size_t used = h.counts.size();
  while (used > 1 && h.counts[used - 1] == 0) --used;
  t.factor = std::max<size_t>(1, used / bars);
  used = std::min(h.counts.size(), (used + t.factor - 1) / t.factor * t.factor + t.factor);
  t.bins.counts.resize(used);
  t.bins.edges.resize(used + 1);
  return t;
}

}  // namespace tinyml::cli

// Printing of tensors in PyTorch's repr style (lives here because it names the grad_fn node).
#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "tinyml/autograd/node.hpp"
#include "tinyml/core/tensor.hpp"

namespace tinyml {

namespace {

constexpr int64_t kSummarizeAbove = 1000;  // PyTorch's default threshold
constexpr int64_t kEdgeItems = 3;

struct Style {
  bool integral = true;  // every value is a whole number: print "1." like PyTorch
  bool sci = false;      // magnitudes too far apart for fixed notation
  size_t width = 0;
};

std::string format_value(float v, const Style& s) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (s.sci) return fmt::format("{:.4e}", v);
  if (s.integral) return fmt::format("{:.0f}.", v);
  return fmt::format("{:.4f}", v);
}

Style choose_style(const std::vector<float>& values) {
  Style s;
  float max_abs = 0.0f;
  float min_abs = std::numeric_limits<float>::infinity();
  for (float v : values) {
    if (!std::isfinite(v)) continue;
    if (v != std::nearbyint(v)) s.integral = false;
    const float a = std::fabs(v);
    max_abs = std::max(max_abs, a);
    if (a > 0) min_abs = std::min(min_abs, a);
  }
  // Same rule as PyTorch: scientific when the range spans more than 1000x, or values are huge/tiny.
  if (max_abs > 0 && (max_abs / min_abs > 1000.0f || max_abs > 1e8f || (!s.integral && max_abs < 1e-4f)))
    s.sci = true;
  if (s.integral && max_abs > 1e8f) s.sci = true;
  for (float v : values) s.width = std::max(s.width, format_value(v, s).size());
  return s;
}

void print_dim(std::string& out, const Tensor& t, const std::vector<float>& flat, int64_t dim, int64_t base,
               const Shape& cstrides, const Style& style, bool summarize, size_t indent) {
  const int64_t n = t.shape()[static_cast<size_t>(dim)];
  const bool last = dim == t.dim() - 1;
  out += '[';
  auto emit = [&](int64_t i) {
    const int64_t off = base + i * cstrides[static_cast<size_t>(dim)];
    if (last) {
      std::string v = format_value(flat[static_cast<size_t>(off)], style);
      out.append(style.width - v.size(), ' ');
      out += v;
    } else {
      print_dim(out, t, flat, dim + 1, off, cstrides, style, summarize, indent + 1);
    }
  };
  std::string sep = ", ";
  if (!last) {
    sep = ",";
    sep.append(static_cast<size_t>(t.dim() - dim - 1), '\n');
    sep.append(indent + 1, ' ');
  }
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) {
      out += "...";
      out += sep;
      i = n - kEdgeItems;
    }
    emit(i);
    if (i + 1 < n) out += sep;
  }
  out += ']';
}

}  // namespace

std::string to_string(const Tensor& t) {
  if (!t.defined()) return "tensor(undefined)";
  const std::vector<float> flat = t.to_vector();
  const bool summarize = t.numel() > kSummarizeAbove;
  std::string body;
  if (t.numel() == 0) {
    body = "[]";
  } else if (t.dim() == 0) {
    body = format_value(flat[0], choose_style(flat));
  } else {
    // Style from the printed elements only, like PyTorch.
    Style style = choose_style(flat);
    print_dim(body, t, flat, 0, 0, contiguous_strides(t.shape()), style, summarize, 7);
  }
  std::string out = "tensor(" + body;
  if (t.numel() == 0 || summarize) out += fmt::format(", size={}", shape_str(t.shape()));
  if (t.grad_fn())
    out += fmt::format(", grad_fn=<{}>", t.grad_fn()->name);
  else if (t.requires_grad())
    out += ", requires_grad=True";
  out += ")";
  return out;
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << to_string(t); }

}  // namespace tinyml

// Reductions (sum, mean, max, min, argmax) and softmax / log_softmax, with backward.
#include <cmath>
#include <limits>

#include "tinyml/autograd/node.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/ops/ops.hpp"

namespace tinyml {

using autograd::Node;
using autograd::OpArgs;
using autograd::record;

namespace {

// A contiguous tensor seen as (outer, r, inner) around the reduced dim.
struct Split {
  int64_t outer = 1, r = 1, inner = 1;
};

Split split_at(const Shape& s, int64_t d) {
  Split sp;
  for (int64_t i = 0; i < static_cast<int64_t>(s.size()); ++i) {
    if (i < d)
      sp.outer *= s[static_cast<size_t>(i)];
    else if (i == d)
      sp.r = s[static_cast<size_t>(i)];
    else
      sp.inner *= s[static_cast<size_t>(i)];
  }
  return sp;
}

Shape reduced_shape(const Shape& s, int64_t d, bool keepdim) {
  Shape out = s;
  if (keepdim)
    out[static_cast<size_t>(d)] = 1;
  else
    out.erase(out.begin() + d);
  return out;
}

// Broadcasts a reduced gradient back over the reduced dim.
Tensor expand_back(const Tensor& g, const Shape& in_shape, int64_t d, bool keepdim) {
  // BEGIN SOLUTION 02: expand_back: backward of sum(x, d): repeat the gradient along d
  Tensor gk = keepdim ? g : g.unsqueeze(d);
  return gk.expand(in_shape).contiguous();
  // END SOLUTION
}

Tensor sum_dim_raw(const Tensor& x, int64_t d, bool keepdim) {
  const Tensor xc = x.contiguous();
  const Split sp = split_at(x.shape(), d);
  Tensor out = Tensor::zeros(reduced_shape(x.shape(), d, keepdim));
  const float* px = xc.data();
  float* po = out.data();
  for (int64_t o = 0; o < sp.outer; ++o) {
    if (sp.inner == 1) {
      double acc = 0.0;  // one long row: accumulate in double
      for (int64_t k = 0; k < sp.r; ++k) acc += px[o * sp.r + k];
      po[o] = static_cast<float>(acc);
    } else {
      float* dst = po + o * sp.inner;
      for (int64_t k = 0; k < sp.r; ++k) {
        const float* src = px + (o * sp.r + k) * sp.inner;
        for (int64_t i = 0; i < sp.inner; ++i) dst[i] += src[i];
      }
    }
  }
  return out;
}

// Index of the max (or min) along d, first occurrence; NaN wins, like PyTorch.
template <bool IsMax>
void arg_extreme(const Tensor& x, int64_t d, Tensor& values, Tensor& indices, bool keepdim) {
  TINYML_CHECK(x.size(d) > 0, "{}: cannot reduce an empty dim {} of shape {}", IsMax ? "max" : "min", d,
               shape_str(x.shape()));
  const Tensor xc = x.contiguous();
  const Split sp = split_at(x.shape(), d);
  const Shape rs = reduced_shape(x.shape(), d, keepdim);
  values = Tensor::empty(rs);
  indices = Tensor::empty(rs);
  const float* px = xc.data();
  for (int64_t o = 0; o < sp.outer; ++o)
    for (int64_t i = 0; i < sp.inner; ++i) {
      int64_t best = 0;
      float bv = px[o * sp.r * sp.inner + i];
      for (int64_t k = 1; k < sp.r && !std::isnan(bv); ++k) {
        const float v = px[(o * sp.r + k) * sp.inner + i];
        if (std::isnan(v) || (IsMax ? v > bv : v < bv)) {
          bv = v;
          best = k;
        }
      }
      values.data()[o * sp.inner + i] = bv;
      indices.data()[o * sp.inner + i] = static_cast<float>(best);
    }
}

// Scatters g (reduced shape) into zeros of in_shape at the recorded indices along d.
Tensor scatter_back(const Tensor& g, const Tensor& indices, const Shape& in_shape, int64_t d) {
  // BEGIN SOLUTION 02: scatter_back: backward of max/min along d: all to the winning index
  const Split sp = split_at(in_shape, d);
  Tensor out = Tensor::zeros(in_shape);
  const Tensor gc = g.contiguous();
  for (int64_t o = 0; o < sp.outer; ++o)
    for (int64_t i = 0; i < sp.inner; ++i) {
      const auto k = static_cast<int64_t>(indices.data()[o * sp.inner + i]);
      out.data()[(o * sp.r + k) * sp.inner + i] = gc.data()[o * sp.inner + i];
    }
  return out;
  // END SOLUTION
}

template <bool IsMax>
Tensor extreme_dim(const Tensor& x, int64_t dim, bool keepdim, const char* name) {
  const int64_t d = x.wrap_dim(dim, IsMax ? "max" : "min");
  if (x.dim() == 0) return x.clone();
  Tensor values, indices;
  arg_extreme<IsMax>(x, d, values, indices, keepdim);
  return record(
      values, name, {x},
      [](Node& n, const Tensor& g) {
        const int64_t d = n.args.dim;
        const bool keep = n.args.keepdim;
        const Tensor gk = keep ? g : g.unsqueeze(d);
        const Tensor ik = keep ? n.saved[0] : n.saved[0].unsqueeze(d);
        return std::vector<Tensor>{scatter_back(gk, ik, n.inputs[0].shape(), d)};
      },
      {indices}, OpArgs::along(d, keepdim));
}

template <bool IsMax>
Tensor extreme_all(const Tensor& x, const char* name) {
  TINYML_CHECK(x.numel() > 0, "{}: cannot reduce an empty tensor of shape {}", IsMax ? "max" : "min",
               shape_str(x.shape()));
  return extreme_dim<IsMax>(x.reshape({-1}), 0, false, name).reshape({});
}

}  // namespace

Tensor sum(const Tensor& x) {
  TINYML_CHECK(x.defined(), "sum: the input is undefined");
  const auto v = x.contiguous();
  double acc = 0.0;
  for (int64_t i = 0; i < v.numel(); ++i) acc += v.data()[i];
  Tensor out = Tensor::scalar(static_cast<float>(acc));
  return record(out, "SumBackward0", {x}, [](Node& n, const Tensor& g) {
    return std::vector<Tensor>{g.expand(n.inputs[0].shape()).contiguous()};
  });
}

Tensor sum(const Tensor& x, int64_t dim, bool keepdim) {
  const int64_t d = x.wrap_dim(dim, "sum");
  if (x.dim() == 0) return x.clone();
  Tensor out = sum_dim_raw(x, d, keepdim);
  return record(
      out, "SumBackward1", {x},
      [](Node& n, const Tensor& g) {
        return std::vector<Tensor>{expand_back(g, n.inputs[0].shape(), n.args.dim, n.args.keepdim)};
      },
      {}, OpArgs::along(d, keepdim));
}

Tensor mean(const Tensor& x) {
  TINYML_CHECK(x.numel() > 0, "mean: cannot average an empty tensor of shape {}", shape_str(x.shape()));
  return sum(x) / static_cast<float>(x.numel());
}

Tensor mean(const Tensor& x, int64_t dim, bool keepdim) {
  const int64_t d = x.wrap_dim(dim, "mean");
  if (x.dim() == 0) return x.clone();
  TINYML_CHECK(x.size(d) > 0, "mean: cannot average over an empty dim {} of shape {}", d,
               shape_str(x.shape()));
  return sum(x, d, keepdim) / static_cast<float>(x.size(d));
}

Tensor max(const Tensor& x) { return extreme_all<true>(x, "MaxBackward1"); }
Tensor min(const Tensor& x) { return extreme_all<false>(x, "MinBackward1"); }
Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_dim<true>(x, dim, keepdim, "MaxBackward0");
}
Tensor min(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_dim<false>(x, dim, keepdim, "MinBackward0");
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  const int64_t d = x.wrap_dim(dim, "argmax");
  if (x.dim() == 0) return Tensor::scalar(0.0f);
  Tensor values, indices;
  arg_extreme<true>(x, d, values, indices, keepdim);
  return indices;
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  // BEGIN SOLUTION 02: sum_to: backward of broadcasting: sum grad down to shape
  if (grad.shape() == shape) return grad;
  TINYML_CHECK(grad.dim() >= static_cast<int64_t>(shape.size()), "sum_to: cannot reduce shape {} to {}",
               shape_str(grad.shape()), shape_str(shape));
  Tensor g = grad;
  const int64_t lead = grad.dim() - static_cast<int64_t>(shape.size());
  for (int64_t i = 0; i < lead; ++i) g = sum(g, 0, false);
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] == 1 && g.shape()[i] != 1) g = sum(g, static_cast<int64_t>(i), true);
  TINYML_CHECK(g.shape() == shape, "sum_to: cannot reduce shape {} to {}", shape_str(grad.shape()),
               shape_str(shape));
  return g;
  // END SOLUTION
}

// ---------------------------------------------------------------- softmax family

namespace {
// y = softmax or log_softmax of x along d, computed with the max subtracted (no overflow).
Tensor softmax_raw(const Tensor& x, int64_t d, bool log_form) {
  // BEGIN SOLUTION 04: softmax_raw: softmax / log-softmax along d, max subtracted first
  const Tensor xc = x.contiguous();
  const Split sp = split_at(x.shape(), d);
  Tensor out = Tensor::empty(x.shape());
  const float* px = xc.data();
  float* po = out.data();
  for (int64_t o = 0; o < sp.outer; ++o)
    for (int64_t i = 0; i < sp.inner; ++i) {
      const float* src = px + o * sp.r * sp.inner + i;
      float* dst = po + o * sp.r * sp.inner + i;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t k = 0; k < sp.r; ++k) m = std::max(m, src[k * sp.inner]);
      if (std::isinf(m)) m = 0.0f;  // all -inf (or +inf): keep the arithmetic defined
      double s = 0.0;
      for (int64_t k = 0; k < sp.r; ++k) s += std::exp(static_cast<double>(src[k * sp.inner] - m));
      if (log_form) {
        // (x − m) − log s, not x − (m + log s): the shifted form keeps the digits for large x.
        const float log_s = static_cast<float>(std::log(s));
        for (int64_t k = 0; k < sp.r; ++k) dst[k * sp.inner] = (src[k * sp.inner] - m) - log_s;
      } else {
        const double inv = 1.0 / s;
        for (int64_t k = 0; k < sp.r; ++k)
          dst[k * sp.inner] = static_cast<float>(std::exp(static_cast<double>(src[k * sp.inner] - m)) * inv);
      }
    }
  return out;
  // END SOLUTION
}
}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  const int64_t d = x.wrap_dim(dim, "softmax");
  if (x.dim() == 0) return Tensor::ones({});
  Tensor out = softmax_raw(x, d, false);
  return record(
      out, "SoftmaxBackward0", {x},
      [](Node& n, const Tensor& g) {
        const Tensor& y = n.saved[0];
        // dx = y ⊙ (g − Σ_d g⊙y)
        return std::vector<Tensor>{mul(y, sub(g, sum(mul(g, y), n.args.dim, true)))};
      },
      {out.detach()}, OpArgs::along(d));
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  const int64_t d = x.wrap_dim(dim, "log_softmax");
  if (x.dim() == 0) return Tensor::zeros({});
  Tensor out = softmax_raw(x, d, true);
  return record(
      out, "LogSoftmaxBackward0", {x},
      [](Node& n, const Tensor& g) {
        // dx = g − softmax ⊙ Σ_d g
        return std::vector<Tensor>{sub(g, mul(exp(n.saved[0]), sum(g, n.args.dim, true)))};
      },
      {out.detach()}, OpArgs::along(d));
}

Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim) {
  const int64_t d = x.wrap_dim(dim, "logsumexp");
  // The max is a constant shift: its gradient contributions cancel, so it is detached.
  const Tensor m = max(x, d, true).detach();
  Tensor out = add(m, log(sum(exp(sub(x, m)), d, true)));
  return keepdim ? out : out.squeeze(d);
}

// ---------------------------------------------------------------- methods

Tensor Tensor::sum() const { return tinyml::sum(*this); }
Tensor Tensor::sum(int64_t d, bool keepdim) const { return tinyml::sum(*this, d, keepdim); }
Tensor Tensor::mean() const { return tinyml::mean(*this); }
Tensor Tensor::mean(int64_t d, bool keepdim) const { return tinyml::mean(*this, d, keepdim); }
Tensor Tensor::max() const { return tinyml::max(*this); }
Tensor Tensor::max(int64_t d, bool keepdim) const { return tinyml::max(*this, d, keepdim); }
Tensor Tensor::min() const { return tinyml::min(*this); }
Tensor Tensor::min(int64_t d, bool keepdim) const { return tinyml::min(*this, d, keepdim); }
Tensor Tensor::argmax(int64_t d, bool keepdim) const { return tinyml::argmax(*this, d, keepdim); }
Tensor Tensor::softmax(int64_t d) const { return tinyml::softmax(*this, d); }
Tensor Tensor::log_softmax(int64_t d) const { return tinyml::log_softmax(*this, d); }

}  // namespace tinyml

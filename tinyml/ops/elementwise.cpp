// Elementwise ops with NumPy broadcasting, their backward, and the Tensor operators.
#include <cmath>

#include "tinyml/autograd/node.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/strided.hpp"
#include "tinyml/ops/ops.hpp"

namespace tinyml {

using autograd::Node;
using autograd::record;

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* fn) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    TINYML_CHECK(da == db || da == 1 || db == 1,
                 "{}: shapes {} and {} cannot be broadcast together (dim {}: {} vs {})", fn, shape_str(a),
                 shape_str(b), i, da, db);
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {

const float* base(const Tensor& t) { return t.impl()->storage->data(); }

// out[i] = f(a[i], b[i]) over the broadcast shape; the inner loop is specialised for the
// layouts that dominate (both contiguous, one side a broadcast scalar-per-row).
template <class F>
Tensor binary_map(const Tensor& a, const Tensor& b, const char* fn, F f) {
  TINYML_CHECK(a.defined() && b.defined(), "{}: an operand is undefined", fn);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), fn);
  Tensor out = Tensor::empty(shape);
  float* o = out.data();
  const float* pa = base(a);
  const float* pb = base(b);
  detail::for_each_row<3>(
      shape,
      {contiguous_strides(shape), detail::broadcast_strides(a.shape(), a.strides(), shape),
       detail::broadcast_strides(b.shape(), b.strides(), shape)},
      {0, a.offset(), b.offset()}, [&](std::array<int64_t, 3> off, int64_t n, std::array<int64_t, 3> st) {
        float* po = o + off[0];
        const float* x = pa + off[1];
        const float* y = pb + off[2];
        if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
          for (int64_t i = 0; i < n; ++i) po[i] = f(x[i], y[i]);
        } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
          const float yv = *y;
          for (int64_t i = 0; i < n; ++i) po[i] = f(x[i], yv);
        } else if (st[0] == 1 && st[1] == 0 && st[2] == 1) {
          const float xv = *x;
          for (int64_t i = 0; i < n; ++i) po[i] = f(xv, y[i]);
        } else {
          for (int64_t i = 0; i < n; ++i) po[i * st[0]] = f(x[i * st[1]], y[i * st[2]]);
        }
      });
  return out;
}

template <class F>
Tensor unary_map(const Tensor& x, F f) {
  Tensor out = Tensor::empty(x.shape());
  float* o = out.data();
  const float* px = base(x);
  detail::for_each_row<2>(x.shape(), {contiguous_strides(x.shape()), x.strides()}, {0, x.offset()},
                          [&](std::array<int64_t, 2> off, int64_t n, std::array<int64_t, 2> st) {
                            float* po = o + off[0];
                            const float* v = px + off[1];
                            if (st[0] == 1 && st[1] == 1) {
                              for (int64_t i = 0; i < n; ++i) po[i] = f(v[i]);
                            } else {
                              for (int64_t i = 0; i < n; ++i) po[i * st[0]] = f(v[i * st[1]]);
                            }
                          });
  return out;
}

// grad_in[i] = df(x[i], y[i], g[i]) for tensors of one shape (y is the forward output).
template <class DF>
Tensor backward_map(const Tensor& x, const Tensor& y, const Tensor& g, DF df) {
  Tensor out = Tensor::empty(x.shape());
  float* o = out.data();
  const float* px = base(x);
  const float* py = base(y);
  const float* pg = base(g);
  detail::for_each_row<4>(x.shape(), {contiguous_strides(x.shape()), x.strides(), y.strides(), g.strides()},
                          {0, x.offset(), y.offset(), g.offset()},
                          [&](std::array<int64_t, 4> off, int64_t n, std::array<int64_t, 4> st) {
                            for (int64_t i = 0; i < n; ++i)
                              o[off[0] + i * st[0]] =
                                  df(px[off[1] + i * st[1]], py[off[2] + i * st[2]], pg[off[3] + i * st[3]]);
                          });
  return out;
}

// A differentiable unary op: y = f(x), dx = df(x, y, dy).
template <class F, class DF>
Tensor unary(const Tensor& x, const char* name, F f, DF df) {
  TINYML_CHECK(x.defined(), "{}: the input is undefined", name);
  Tensor out = unary_map(x, f);
  if (!autograd::any_requires_grad({&x})) return out;
  return record(out, name, {x},
                [df](Node& n, const Tensor& g) {
                  return std::vector<Tensor>{backward_map(n.inputs[0], n.saved[0], g, df)};
                },
                {out.detach()});
}

bool needs(const Node& n, size_t i) { return n.inputs[i].requires_grad(); }

}  // namespace

// ---------------------------------------------------------------- binary

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_map(a, b, "add", [](float x, float y) { return x + y; });
  return record(out, "AddBackward0", {a, b}, [](Node& n, const Tensor& g) {
    return std::vector<Tensor>{needs(n, 0) ? sum_to(g, n.inputs[0].shape()) : Tensor(),
                               needs(n, 1) ? sum_to(g, n.inputs[1].shape()) : Tensor()};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_map(a, b, "sub", [](float x, float y) { return x - y; });
  return record(out, "SubBackward0", {a, b}, [](Node& n, const Tensor& g) {
    return std::vector<Tensor>{needs(n, 0) ? sum_to(g, n.inputs[0].shape()) : Tensor(),
                               needs(n, 1) ? sum_to(neg(g), n.inputs[1].shape()) : Tensor()};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_map(a, b, "mul", [](float x, float y) { return x * y; });
  return record(out, "MulBackward0", {a, b}, [](Node& n, const Tensor& g) {
    return std::vector<Tensor>{needs(n, 0) ? sum_to(mul(g, n.inputs[1]), n.inputs[0].shape()) : Tensor(),
                               needs(n, 1) ? sum_to(mul(g, n.inputs[0]), n.inputs[1].shape()) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_map(a, b, "div", [](float x, float y) { return x / y; });
  return record(out, "DivBackward0", {a, b}, [](Node& n, const Tensor& g) {
    const Tensor& x = n.inputs[0];
    const Tensor& y = n.inputs[1];
    Tensor gb;
    if (needs(n, 1)) gb = sum_to(neg(div(mul(g, x), mul(y, y))), y.shape());
    return std::vector<Tensor>{needs(n, 0) ? sum_to(div(g, y), x.shape()) : Tensor(), gb};
  });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = binary_map(a, b, "maximum", [](float x, float y) { return x >= y ? x : y; });
  return record(out, "MaximumBackward0", {a, b}, [](Node& n, const Tensor& g) {
    const Tensor mask = binary_map(n.inputs[0], n.inputs[1], "maximum",
                                   [](float x, float y) { return x >= y ? 1.0f : 0.0f; });
    return std::vector<Tensor>{
        needs(n, 0) ? sum_to(mul(g, mask), n.inputs[0].shape()) : Tensor(),
        needs(n, 1) ? sum_to(mul(g, sub(Tensor::scalar(1.0f), mask)), n.inputs[1].shape()) : Tensor()};
  });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = binary_map(a, b, "minimum", [](float x, float y) { return x <= y ? x : y; });
  return record(out, "MinimumBackward0", {a, b}, [](Node& n, const Tensor& g) {
    const Tensor mask = binary_map(n.inputs[0], n.inputs[1], "minimum",
                                   [](float x, float y) { return x <= y ? 1.0f : 0.0f; });
    return std::vector<Tensor>{
        needs(n, 0) ? sum_to(mul(g, mask), n.inputs[0].shape()) : Tensor(),
        needs(n, 1) ? sum_to(mul(g, sub(Tensor::scalar(1.0f), mask)), n.inputs[1].shape()) : Tensor()};
  });
}

// ---------------------------------------------------------------- scalar forms

namespace {
Tensor add_scalar(const Tensor& x, float s) {
  return unary(
      x, "AddBackward1", [s](float v) { return v + s; }, [](float, float, float g) { return g; });
}
Tensor mul_scalar(const Tensor& x, float s) {
  return unary(
      x, "MulBackward1", [s](float v) { return v * s; }, [s](float, float, float g) { return g * s; });
}
Tensor div_scalar(const Tensor& x, float s) {
  return unary(
      x, "DivBackward1", [s](float v) { return v / s; }, [s](float, float, float g) { return g / s; });
}
Tensor rdiv_scalar(float s, const Tensor& x) {
  return unary(
      x, "DivBackward2", [s](float v) { return s / v; },
      [s](float xv, float, float g) { return -g * s / (xv * xv); });
}
}  // namespace

// ---------------------------------------------------------------- unary

Tensor neg(const Tensor& x) {
  return unary(
      x, "NegBackward0", [](float v) { return -v; }, [](float, float, float g) { return -g; });
}
Tensor exp(const Tensor& x) {
  return unary(
      x, "ExpBackward0", [](float v) { return std::exp(v); }, [](float, float y, float g) { return g * y; });
}
Tensor log(const Tensor& x) {
  return unary(
      x, "LogBackward0", [](float v) { return std::log(v); },
      [](float xv, float, float g) { return g / xv; });
}
Tensor sqrt(const Tensor& x) {
  return unary(
      x, "SqrtBackward0", [](float v) { return std::sqrt(v); },
      [](float, float y, float g) { return g / (2.0f * y); });
}
Tensor abs(const Tensor& x) {
  return unary(
      x, "AbsBackward0", [](float v) { return std::fabs(v); },
      [](float xv, float, float g) { return xv > 0 ? g : (xv < 0 ? -g : 0.0f); });
}
Tensor pow(const Tensor& x, float p) {
  if (p == 2.0f)
    return unary(
        x, "PowBackward0", [](float v) { return v * v; },
        [](float xv, float, float g) { return 2.0f * xv * g; });
  return unary(
      x, "PowBackward0", [p](float v) { return std::pow(v, p); },
      [p](float xv, float, float g) { return p == 0.0f ? 0.0f : g * p * std::pow(xv, p - 1.0f); });
}
Tensor clamp(const Tensor& x, float lo, float hi) {
  TINYML_CHECK(lo <= hi, "clamp: lo {} is greater than hi {}", lo, hi);
  return unary(
      x, "ClampBackward1", [lo, hi](float v) { return std::min(std::max(v, lo), hi); },
      [lo, hi](float xv, float, float g) { return (xv >= lo && xv <= hi) ? g : 0.0f; });
}
Tensor relu(const Tensor& x) {
  return unary(
      x, "ReluBackward0", [](float v) { return v > 0.0f ? v : 0.0f; },
      [](float, float y, float g) { return y > 0.0f ? g : 0.0f; });
}
Tensor sigmoid(const Tensor& x) {
  return unary(
      x, "SigmoidBackward0",
      [](float v) {
        // Two forms so that exp never overflows.
        if (v >= 0) return 1.0f / (1.0f + std::exp(-v));
        const float e = std::exp(v);
        return e / (1.0f + e);
      },
      [](float, float y, float g) { return g * y * (1.0f - y); });
}
Tensor tanh(const Tensor& x) {
  return unary(
      x, "TanhBackward0", [](float v) { return std::tanh(v); },
      [](float, float y, float g) { return g * (1.0f - y * y); });
}

Tensor gt(const Tensor& a, float b) {
  return unary_map(a, [b](float v) { return v > b ? 1.0f : 0.0f; });
}
Tensor lt(const Tensor& a, float b) {
  return unary_map(a, [b](float v) { return v < b ? 1.0f : 0.0f; });
}
Tensor eq(const Tensor& a, const Tensor& b) {
  return binary_map(a, b, "eq", [](float x, float y) { return x == y ? 1.0f : 0.0f; });
}

// ---------------------------------------------------------------- operators and methods

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, float b) { return add_scalar(a, b); }
Tensor operator-(const Tensor& a, float b) { return add_scalar(a, -b); }
Tensor operator*(const Tensor& a, float b) { return mul_scalar(a, b); }
Tensor operator/(const Tensor& a, float b) { return div_scalar(a, b); }
Tensor operator+(float a, const Tensor& b) { return add_scalar(b, a); }
Tensor operator-(float a, const Tensor& b) { return add_scalar(neg(b), a); }
Tensor operator*(float a, const Tensor& b) { return mul_scalar(b, a); }
Tensor operator/(float a, const Tensor& b) { return rdiv_scalar(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }

Tensor Tensor::neg() const { return tinyml::neg(*this); }
Tensor Tensor::exp() const { return tinyml::exp(*this); }
Tensor Tensor::log() const { return tinyml::log(*this); }
Tensor Tensor::sqrt() const { return tinyml::sqrt(*this); }
Tensor Tensor::abs() const { return tinyml::abs(*this); }
Tensor Tensor::pow(float e) const { return tinyml::pow(*this, e); }
Tensor Tensor::clamp(float lo, float hi) const { return tinyml::clamp(*this, lo, hi); }
Tensor Tensor::relu() const { return tinyml::relu(*this); }
Tensor Tensor::sigmoid() const { return tinyml::sigmoid(*this); }
Tensor Tensor::tanh() const { return tinyml::tanh(*this); }

}  // namespace tinyml

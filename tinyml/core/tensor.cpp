#include "tinyml/core/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <numeric>

#include "tinyml/core/asan.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/strided.hpp"

namespace tinyml {

// ---------------------------------------------------------------- storage and shapes

namespace {
// Under AddressSanitizer the inline floats a tensor does not use are marked unaddressable (or
// addressable again), so that reading past a small tensor's end is reported as it is past an
// allocated block.
void poison_unused(float* inline_floats, size_t used, size_t capacity, bool poison) {
#if TINYML_ASAN
  float* tail = inline_floats + used;
  const size_t bytes = (capacity - used) * sizeof(float);
  if (poison) {
    __asan_poison_memory_region(tail, bytes);
  } else {
    __asan_unpoison_memory_region(tail, bytes);
  }
#else
  (void)inline_floats, (void)used, (void)capacity, (void)poison;
#endif
}
}  // namespace

Storage::Storage(size_t numel) : data_(inline_), size_(numel) {
  TINYML_CHECK(numel <= (size_t{1} << 40), "Tensor: refusing to allocate {} elements", numel);
  if (numel <= kInline) {
    poison_unused(inline_, numel, kInline, true);
    return;
  }
  // A small block (up to a cache line's worth of SIMD work) comes from plain malloc: 16-byte
  // aligned, and served from the allocator's per-thread cache, where an aligned request takes
  // the slow path every time; the tensors of a tiny model's step were 40 % allocation before.
  // Larger blocks are 64-byte aligned; aligned_alloc needs a non-zero multiple of the alignment.
  constexpr size_t kSmallBytes = 512;
  const size_t bytes = numel * sizeof(float);
  void* p = bytes <= kSmallBytes ? std::malloc(bytes) : std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  TINYML_CHECK(p != nullptr, "Tensor: out of memory allocating {} bytes", bytes);
  data_ = static_cast<float*>(p);
}

Storage::~Storage() {
  if (data_ != inline_) {
    std::free(data_);
  } else {
    poison_unused(inline_, size_, kInline, false);
  }
}

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  // BEGIN SOLUTION 01: contiguous_strides: row-major strides (the last dim moves by 1)
  Shape s(shape.size());
  int64_t acc = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    s[i] = acc;
    acc *= std::max<int64_t>(shape[i], 1);
  }
  return s;
  // END SOLUTION
}

std::string shape_str(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

namespace detail {
Shape broadcast_strides(const Shape& from, const Shape& from_strides, const Shape& to) {
  Shape out(to.size(), 0);
  const size_t lead = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    out[lead + i] = (from[i] == 1 && to[lead + i] != 1) ? 0 : from_strides[i];
  return out;
}
}  // namespace detail

namespace {
void check_shape(const Shape& shape, const char* fn) {
  int64_t n = 1;
  for (int64_t d : shape) {
    TINYML_CHECK(d >= 0, "{}: negative dimension in shape {}", fn, shape_str(shape));
    TINYML_CHECK(d == 0 || n <= (int64_t{1} << 40) / d, "{}: shape {} is too large", fn, shape_str(shape));
    n *= d;
  }
}

std::shared_ptr<TensorImpl> make_impl(const Shape& shape) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(numel_of(shape)));
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  return impl;
}
}  // namespace

// ---------------------------------------------------------------- creation

Tensor Tensor::empty(const Shape& shape) {
  check_shape(shape, "Tensor::empty");
  return Tensor(make_impl(shape));
}

Tensor Tensor::zeros(const Shape& shape) { return full(shape, 0.0f); }
Tensor Tensor::ones(const Shape& shape) { return full(shape, 1.0f); }

Tensor Tensor::full(const Shape& shape, float value) {
  // BEGIN SOLUTION 01: Tensor::full: check the shape, allocate, fill with value
  check_shape(shape, "Tensor::full");
  Tensor t(make_impl(shape));
  std::fill_n(t.data(), t.numel(), value);
  return t;
  // END SOLUTION
}

Tensor Tensor::scalar(float value) { return full({}, value); }

Tensor Tensor::arange(float end) { return arange(0.0f, end, 1.0f); }

Tensor Tensor::arange(float start, float end, float step) {
  TINYML_CHECK(step != 0.0f && std::isfinite(step) && std::isfinite(start) && std::isfinite(end),
               "Tensor::arange: need finite start/end and a non-zero step, got start={} end={} step={}",
               start, end, step);
  const double n = std::ceil((static_cast<double>(end) - start) / step);
  // Checked in double: converting a count past int64's range to an integer is undefined.
  TINYML_CHECK(n <= static_cast<double>(int64_t{1} << 40),
               "Tensor::arange: start={} end={} step={} would make {:g} elements", start, end, step, n);
  const int64_t count = n > 0 ? static_cast<int64_t>(n) : 0;
  Tensor t = empty({count});
  for (int64_t i = 0; i < count; ++i) t.data()[i] = static_cast<float>(start + static_cast<double>(i) * step);
  return t;
}

Tensor Tensor::rand(const Shape& shape, Generator& gen) {
  Tensor t = empty(shape);
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = gen.uniform();
  return t;
}

Tensor Tensor::randn(const Shape& shape, Generator& gen) {
  Tensor t = empty(shape);
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = gen.normal();
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape) {
  // BEGIN SOLUTION 01: Tensor::from_vector: the values must fill the shape exactly; copy them
  check_shape(shape, "Tensor::from_vector");
  TINYML_CHECK(static_cast<int64_t>(values.size()) == numel_of(shape),
               "Tensor::from_vector: {} values cannot fill shape {} ({} elements)", values.size(),
               shape_str(shape), numel_of(shape));
  return from_data(values.data(), shape);
  // END SOLUTION
}

Tensor Tensor::from_data(const float* values, const Shape& shape) {
  Tensor t = empty(shape);
  TINYML_CHECK(values != nullptr || t.numel() == 0,
               "Tensor::from_data: null pointer for shape {} ({} elements)", shape_str(shape), t.numel());
  if (t.numel() > 0) std::memcpy(t.data(), values, static_cast<size_t>(t.numel()) * sizeof(float));
  return t;
}

Tensor::Tensor(std::initializer_list<std::initializer_list<float>> rows) {
  const int64_t r = static_cast<int64_t>(rows.size());
  const int64_t c = r ? static_cast<int64_t>(rows.begin()->size()) : 0;
  std::vector<float> v;
  v.reserve(static_cast<size_t>(r * c));
  for (const auto& row : rows) {
    TINYML_CHECK(static_cast<int64_t>(row.size()) == c,
                 "Tensor: ragged nested list: a row has {} values, the first has {}", row.size(), c);
    v.insert(v.end(), row.begin(), row.end());
  }
  *this = from_vector(v, {r, c});
}

Tensor::Tensor(std::initializer_list<std::initializer_list<std::initializer_list<float>>> mats) {
  const int64_t b = static_cast<int64_t>(mats.size());
  const int64_t r = b ? static_cast<int64_t>(mats.begin()->size()) : 0;
  const int64_t c = r ? static_cast<int64_t>(mats.begin()->begin()->size()) : 0;
  std::vector<float> v;
  for (const auto& m : mats) {
    TINYML_CHECK(static_cast<int64_t>(m.size()) == r, "Tensor: ragged nested list: {} rows vs {}", m.size(),
                 r);
    for (const auto& row : m) {
      TINYML_CHECK(static_cast<int64_t>(row.size()) == c,
                   "Tensor: ragged nested list: a row has {} values, the first has {}", row.size(), c);
      v.insert(v.end(), row.begin(), row.end());
    }
  }
  *this = from_vector(v, {b, r, c});
}

// ---------------------------------------------------------------- metadata

void Tensor::throw_undefined(const char* fn) { throw Error(fmt::format("{}: the tensor is undefined", fn)); }

int64_t Tensor::wrap_dim(int64_t d, const char* fn, bool insertion) const {
  const int64_t n = dim() + (insertion ? 1 : 0);
  const int64_t lo = n == 0 ? -1 : -n;
  const int64_t hi = n == 0 ? 0 : n - 1;
  TINYML_CHECK(d >= lo && d <= hi, "{}: dim {} out of range for a tensor of shape {} (expected {}..{})", fn,
               d, shape_str(shape()), lo, hi);
  return d < 0 ? d + std::max<int64_t>(n, 1) : d;
}

int64_t Tensor::size(int64_t d) const { return shape()[static_cast<size_t>(wrap_dim(d, "Tensor::size"))]; }

bool Tensor::is_contiguous() const {
  // An empty tensor has no element out of place, whatever its strides (as in PyTorch); without
  // this, a fresh (3, 0, 4) tensor would count as strided and view() of it would throw.
  if (numel() == 0) return true;
  // BEGIN SOLUTION 01: Tensor::is_contiguous: row-major without gaps (size-1 dims: any stride)
  const auto& s = shape();
  const auto& st = strides();
  int64_t expected = 1;
  for (size_t i = s.size(); i-- > 0;) {
    if (s[i] != 1 && st[i] != expected) return false;
    expected *= s[i];
  }
  return true;
  // END SOLUTION
}

float* Tensor::data() {
  const auto& impl = checked_impl("Tensor::data");
  return impl.storage->data() + impl.offset;
}

const float* Tensor::data() const {
  const auto& impl = checked_impl("Tensor::data");
  return impl.storage->data() + impl.offset;
}

float Tensor::item() const {
  TINYML_CHECK(numel() == 1, "Tensor::item: needs exactly one element, the tensor has shape {}",
               shape_str(shape()));
  return *data();
}

namespace {
int64_t element_offset(const Tensor& t, std::initializer_list<int64_t> index, const char* fn) {
  // BEGIN SOLUTION 01: element_offset: bounds-checked storage offset of an index (negative from the end)
  TINYML_CHECK(static_cast<int64_t>(index.size()) == t.dim(), "{}: {} indices for a tensor of shape {}", fn,
               index.size(), shape_str(t.shape()));
  int64_t off = 0;
  size_t d = 0;
  for (int64_t i : index) {
    const int64_t n = t.shape()[d];
    TINYML_CHECK(i >= -n && i < n, "{}: index {} out of range for dim {} of shape {}", fn, i, d,
                 shape_str(t.shape()));
    off += (i < 0 ? i + n : i) * t.strides()[d];
    ++d;
  }
  return off;
  // END SOLUTION
}
}  // namespace

float Tensor::at(std::initializer_list<int64_t> index) const {
  return data()[element_offset(*this, index, "Tensor::at")];
}

void Tensor::set(std::initializer_list<int64_t> index, float value) {
  data()[element_offset(*this, index, "Tensor::set")] = value;
}

std::vector<float> Tensor::to_vector() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  float* o = out.data();
  const float* base = impl_->storage->data();
  detail::for_each_row<1>(shape(), {strides()}, {offset()},
                          [&](std::array<int64_t, 1> off, int64_t n, std::array<int64_t, 1> st) {
                            const float* p = base + off[0];
                            for (int64_t i = 0; i < n; ++i) *o++ = p[i * st[0]];
                          });
  return out;
}

bool Tensor::same_storage(const Tensor& other) const {
  return defined() && other.defined() && impl_->storage == other.impl_->storage;
}

// ---------------------------------------------------------------- autograd state

bool Tensor::requires_grad() const { return checked_impl("Tensor::requires_grad").requires_grad; }

Tensor& Tensor::requires_grad_(bool value) {
  checked_impl("Tensor::requires_grad_");
  TINYML_CHECK(impl_->grad_fn == nullptr,
               "Tensor::requires_grad_: only leaf tensors can change requires_grad; this one was "
               "made by an op (use detach() for a new leaf)");
  impl_->requires_grad = value;
  return *this;
}

Tensor Tensor::grad() const {
  const auto& impl = checked_impl("Tensor::grad");
  return impl.grad ? Tensor(impl.grad) : Tensor();
}

void Tensor::set_grad(const Tensor& g) {
  checked_impl("Tensor::set_grad");
  if (g.defined())
    TINYML_CHECK(g.shape() == shape(), "Tensor::set_grad: gradient shape {} differs from tensor shape {}",
                 shape_str(g.shape()), shape_str(shape()));
  impl_->grad = g.impl_;
}

void Tensor::zero_grad() {
  checked_impl("Tensor::zero_grad");
  impl_->grad.reset();
}

void Tensor::retain_grad() {
  checked_impl("Tensor::retain_grad");
  TINYML_CHECK(impl_->requires_grad, "Tensor::retain_grad: the tensor does not require grad");
  impl_->retains_grad = true;
}

bool Tensor::is_leaf() const { return checked_impl("Tensor::is_leaf").grad_fn == nullptr; }

const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const {
  return checked_impl("Tensor::grad_fn").grad_fn;
}

Tensor Tensor::detach() const {
  const auto& impl = checked_impl("Tensor::detach");
  auto d = std::make_shared<TensorImpl>();
  d->storage = impl.storage;
  d->shape = impl.shape;
  d->strides = impl.strides;
  d->offset = impl.offset;
  return Tensor(d);
}

// ---------------------------------------------------------------- in-place ops

Tensor& Tensor::fill_(float value) {
  checked_impl("Tensor::fill_");
  float* base = impl_->storage->data();
  detail::for_each_row<1>(shape(), {strides()}, {offset()},
                          [&](std::array<int64_t, 1> off, int64_t n, std::array<int64_t, 1> st) {
                            for (int64_t i = 0; i < n; ++i) base[off[0] + i * st[0]] = value;
                          });
  return *this;
}

namespace {
void check_broadcastable_to(const Shape& from, const Shape& to, const char* fn) {
  bool ok = from.size() <= to.size();
  for (size_t i = 0; ok && i < from.size(); ++i) {
    const int64_t f = from[from.size() - 1 - i];
    const int64_t t = to[to.size() - 1 - i];
    ok = f == t || f == 1;
  }
  TINYML_CHECK(ok, "{}: shape {} cannot be broadcast to {}", fn, shape_str(from), shape_str(to));
}
}  // namespace

Tensor& Tensor::copy_(const Tensor& src) {
  // BEGIN SOLUTION 01: Tensor::copy_: copy src through both layouts, broadcasting src
  checked_impl("Tensor::copy_");
  src.checked_impl("Tensor::copy_");
  check_broadcastable_to(src.shape(), shape(), "Tensor::copy_");
  // Copy through a temporary when the storages overlap, so a view can be copied onto itself.
  const Tensor s = same_storage(src) ? Tensor::from_vector(src.to_vector(), src.shape()) : src;
  float* dst = impl_->storage->data();
  const float* sp = s.impl_->storage->data();
  detail::for_each_row<2>(shape(), {strides(), detail::broadcast_strides(s.shape(), s.strides(), shape())},
                          {offset(), s.offset()},
                          [&](std::array<int64_t, 2> off, int64_t n, std::array<int64_t, 2> st) {
                            for (int64_t i = 0; i < n; ++i) dst[off[0] + i * st[0]] = sp[off[1] + i * st[1]];
                          });
  return *this;
  // END SOLUTION
}

Tensor& Tensor::add_(const Tensor& other, float alpha) {
  checked_impl("Tensor::add_");
  other.checked_impl("Tensor::add_");
  check_broadcastable_to(other.shape(), shape(), "Tensor::add_");
  float* dst = impl_->storage->data();
  const float* sp = other.impl_->storage->data();
  detail::for_each_row<2>(
      shape(), {strides(), detail::broadcast_strides(other.shape(), other.strides(), shape())},
      {offset(), other.offset()}, [&](std::array<int64_t, 2> off, int64_t n, std::array<int64_t, 2> st) {
        float* d = dst + off[0];
        const float* s = sp + off[1];
        if (st[0] == 1 && st[1] == 1) {
          for (int64_t i = 0; i < n; ++i) d[i] += alpha * s[i];
        } else {
          for (int64_t i = 0; i < n; ++i) d[i * st[0]] += alpha * s[i * st[1]];
        }
      });
  return *this;
}

Tensor& Tensor::mul_(float value) {
  checked_impl("Tensor::mul_");
  float* base = impl_->storage->data();
  detail::for_each_row<1>(shape(), {strides()}, {offset()},
                          [&](std::array<int64_t, 1> off, int64_t n, std::array<int64_t, 1> st) {
                            for (int64_t i = 0; i < n; ++i) base[off[0] + i * st[0]] *= value;
                          });
  return *this;
}

Tensor& Tensor::clamp_(float lo, float hi) {
  checked_impl("Tensor::clamp_");
  TINYML_CHECK(lo <= hi, "Tensor::clamp_: lo {} > hi {}", lo, hi);
  float* base = impl_->storage->data();
  detail::for_each_row<1>(shape(), {strides()}, {offset()},
                          [&](std::array<int64_t, 1> off, int64_t n, std::array<int64_t, 1> st) {
                            for (int64_t i = 0; i < n; ++i) {
                              float& v = base[off[0] + i * st[0]];
                              v = std::min(std::max(v, lo), hi);
                            }
                          });
  return *this;
}

// ---------------------------------------------------------------- comparisons

bool allclose(const Tensor& a, const Tensor& b, float rtol, float atol) {
  if (a.shape() != b.shape()) return false;
  const auto va = a.to_vector();
  const auto vb = b.to_vector();
  for (size_t i = 0; i < va.size(); ++i) {
    if (std::isnan(va[i]) || std::isnan(vb[i])) return false;
    if (std::fabs(va[i] - vb[i]) > atol + rtol * std::fabs(vb[i])) return false;
  }
  return true;
}

bool equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to_vector() == b.to_vector();
}

}  // namespace tinyml

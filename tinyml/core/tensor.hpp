// Tensor: a cheap handle to float32 storage (aligned for SIMD) seen through shape, strides and offset.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "tinyml/core/random.hpp"

namespace tinyml {

using Shape = std::vector<int64_t>;

namespace autograd {
struct Node;
}

// A block of floats shared by every view of it. Up to 32 floats live inside the Storage object
// itself, so that the tensors of a tiny model (XOR's are all that small) need one allocation fewer;
// larger blocks are allocated 64-byte aligned for SIMD and BLAS when larger than 512 bytes, and
// 16-byte aligned otherwise (plain malloc, much cheaper to allocate).
class Storage {
 public:
  explicit Storage(size_t numel);
  ~Storage();
  Storage(const Storage&) = delete;  // data_ may point into the object itself
  Storage& operator=(const Storage&) = delete;
  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return size_; }
  size_t nbytes() const { return size_ * sizeof(float); }

 private:
  static constexpr size_t kInline = 32;
  float* data_;
  size_t size_;
  alignas(16) float inline_[kInline];
};

// The state behind a Tensor handle. Views share `storage`; autograd state lives here too.
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;  // in elements
  int64_t offset = 0;
  bool requires_grad = false;
  bool retains_grad = false;
  std::shared_ptr<TensorImpl> grad;         // accumulated gradient (leaves, or retain_grad)
  std::shared_ptr<autograd::Node> grad_fn;  // the op that produced this tensor, if any
};

// Number of elements of a shape (1 for a scalar, 0 if any extent is 0).
int64_t numel_of(const Shape& shape);
// Row-major (C-contiguous) strides of a shape.
Shape contiguous_strides(const Shape& shape);
// "[2, 3]" — used in every error message.
std::string shape_str(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor; defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
  // 1-D, 2-D and 3-D tensors from nested braces: Tensor({{1, 2}, {3, 4}}).
  // The 1-D form is a template so that a column {{0}, {1}} is read as 2-D, not as two scalars.
  template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
  Tensor(std::initializer_list<T> values) : Tensor(from_list(values)) {}
  Tensor(std::initializer_list<std::initializer_list<float>> rows);
  Tensor(std::initializer_list<std::initializer_list<std::initializer_list<float>>> mats);

  // ---- creation ----
  static Tensor empty(const Shape& shape);
  static Tensor zeros(const Shape& shape);
  static Tensor ones(const Shape& shape);
  static Tensor full(const Shape& shape, float value);
  static Tensor scalar(float value);  // 0-D
  static Tensor arange(float end);
  static Tensor arange(float start, float end, float step = 1.0f);
  static Tensor rand(const Shape& shape, Generator& gen = default_generator());   // U[0, 1)
  static Tensor randn(const Shape& shape, Generator& gen = default_generator());  // N(0, 1)
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape);
  static Tensor from_data(const float* values, const Shape& shape);  // copies numel_of(shape) floats
  template <class T>
  static Tensor from_list(std::initializer_list<T> values) {
    std::vector<float> v;
    v.reserve(values.size());
    for (T x : values) v.push_back(static_cast<float>(x));
    return from_vector(v, {static_cast<int64_t>(v.size())});
  }

  // ---- metadata ----
  bool defined() const { return impl_ != nullptr; }
  // Inline: the most called functions of a small model's step (an undefined tensor throws).
  const Shape& shape() const { return checked_impl("Tensor::shape").shape; }
  const Shape& strides() const { return checked_impl("Tensor::strides").strides; }
  int64_t offset() const { return checked_impl("Tensor::offset").offset; }
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return numel_of(shape()); }
  bool is_contiguous() const;
  // Pointer to element [0, ..., 0]. Mind strides unless is_contiguous().
  float* data();
  const float* data() const;
  float item() const;                                    // numel() == 1
  float at(std::initializer_list<int64_t> index) const;  // bounds-checked element read
  void set(std::initializer_list<int64_t> index, float value);
  std::vector<float> to_vector() const;  // row-major copy
  bool same_storage(const Tensor& other) const;
  const std::shared_ptr<TensorImpl>& impl() const { return impl_; }
  // Normalizes a possibly negative dim against dim() (or dim()+1 for insertion); throws if out of range.
  int64_t wrap_dim(int64_t d, const char* fn, bool insertion = false) const;

  // ---- autograd ----
  bool requires_grad() const;
  Tensor& requires_grad_(bool value = true);  // only on leaves
  Tensor grad() const;                        // undefined until a backward pass reaches it
  void set_grad(const Tensor& g);
  void zero_grad();    // drops the gradient
  void retain_grad();  // keep .grad() on a non-leaf
  bool is_leaf() const;
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  // Reverse-mode differentiation. Without a gradient argument the tensor must hold one element.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  Tensor detach() const;  // shares storage, no history

  // ---- in-place (no autograd; used by optimizers and init under NoGradGuard) ----
  Tensor& fill_(float value);
  Tensor& zero_() { return fill_(0.0f); }
  Tensor& copy_(const Tensor& src);  // src broadcast to this shape
  Tensor& add_(const Tensor& other, float alpha = 1.0f);
  Tensor& mul_(float value);
  Tensor& clamp_(float lo, float hi);

  // ---- differentiable ops (defined in tinyml/ops; see ops/ops.hpp for the free functions) ----
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const;  // requires compatible (contiguous) layout
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor unsqueeze(int64_t d) const;
  Tensor squeeze(int64_t d) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const;  // 2-D transpose
  Tensor permute(const Shape& dims) const;
  Tensor slice(int64_t d, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor narrow(int64_t d, int64_t start, int64_t length) const;
  Tensor select(int64_t d, int64_t index) const;
  Tensor operator[](int64_t index) const { return select(0, index); }
  Tensor expand(const Shape& shape) const;
  Tensor contiguous() const;
  Tensor clone() const;

  Tensor sum() const;
  Tensor sum(int64_t d, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(int64_t d, bool keepdim = false) const;
  Tensor max() const;
  Tensor max(int64_t d, bool keepdim = false) const;
  Tensor min() const;
  Tensor min(int64_t d, bool keepdim = false) const;
  Tensor argmax(int64_t d, bool keepdim = false) const;  // indices as float

  Tensor neg() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor pow(float exponent) const;
  Tensor clamp(float lo, float hi) const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor softmax(int64_t d) const;
  Tensor log_softmax(int64_t d) const;
  Tensor matmul(const Tensor& other) const;

 private:
  // *impl_, or throws tinyml::Error naming `fn` if the tensor is undefined.
  const TensorImpl& checked_impl(const char* fn) const {
    if (impl_ == nullptr) [[unlikely]]
      throw_undefined(fn);
    return *impl_;
  }
  [[noreturn]] static void throw_undefined(const char* fn);  // tinyml::Error "<fn>: the tensor is undefined"

  std::shared_ptr<TensorImpl> impl_;
};

// Elementwise arithmetic with NumPy broadcasting (defined in ops/elementwise.cpp).
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, float b);
Tensor operator-(const Tensor& a, float b);
Tensor operator*(const Tensor& a, float b);
Tensor operator/(const Tensor& a, float b);
Tensor operator+(float a, const Tensor& b);
Tensor operator-(float a, const Tensor& b);
Tensor operator*(float a, const Tensor& b);
Tensor operator/(float a, const Tensor& b);
Tensor operator-(const Tensor& a);

// True when shapes are equal and every |a - b| <= atol + rtol * |b|.
bool allclose(const Tensor& a, const Tensor& b, float rtol = 1e-5f, float atol = 1e-8f);
// True when shapes and every element are equal.
bool equal(const Tensor& a, const Tensor& b);

// PyTorch-like repr: "tensor([[1.0000, 2.0000], ...])", with requires_grad / grad_fn noted.
std::string to_string(const Tensor& t);
std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace tinyml

template <>
struct fmt::formatter<tinyml::Tensor> : fmt::formatter<std::string> {
  auto format(const tinyml::Tensor& t, fmt::format_context& ctx) const {
    return fmt::formatter<std::string>::format(tinyml::to_string(t), ctx);
  }
};

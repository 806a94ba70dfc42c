// View and shape ops: reshape, transpose, permute, slice, select, expand, cat, stack — with backward.
#include <algorithm>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/autograd/node.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/core/strided.hpp"
#include "tinyml/ops/ops.hpp"

namespace tinyml {

using autograd::Node;
using autograd::OpArgs;
using autograd::record;

namespace {

Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl()->storage;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  return Tensor(impl);
}

// Strides for viewing `t` as `shape` without copying, if its layout allows it (as torch.view).
bool view_strides(const Tensor& t, const Shape& shape, Shape& out) {
  if (t.is_contiguous()) {
    out = contiguous_strides(shape);
    return true;
  }
  return false;
}

Shape infer_shape(const Shape& requested, int64_t numel, const char* fn, const Shape& from) {
  Shape shape = requested;
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      TINYML_CHECK(infer < 0, "{}: only one dimension can be -1, got {}", fn, shape_str(requested));
      infer = static_cast<int>(i);
    } else {
      TINYML_CHECK(shape[i] >= 0, "{}: invalid dimension {} in {}", fn, shape[i], shape_str(requested));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    TINYML_CHECK(known != 0 && numel % known == 0,
                 "{}: shape {} is invalid for input of shape {} ({} elements)", fn, shape_str(requested),
                 shape_str(from), numel);
    shape[static_cast<size_t>(infer)] = numel / known;
  }
  TINYML_CHECK(numel_of(shape) == numel, "{}: shape {} is invalid for input of shape {} ({} elements)", fn,
               shape_str(requested), shape_str(from), numel);
  return shape;
}

Tensor reshape_backward_input(const Tensor& grad, const Shape& in_shape) { return grad.reshape(in_shape); }

}  // namespace

Tensor Tensor::view(const Shape& requested) const {
  Shape shape = infer_shape(requested, numel(), "view", this->shape());
  Shape strides;
  TINYML_CHECK(view_strides(*this, shape, strides),
               "view: a tensor of shape {} with strides {} is not contiguous; use reshape()",
               shape_str(this->shape()), shape_str(this->strides()));
  Tensor out = make_view(*this, std::move(shape), std::move(strides), offset());
  return record(out, "ViewBackward0", {*this}, [](Node& n, const Tensor& g) {
    return std::vector<Tensor>{reshape_backward_input(g, n.inputs[0].shape())};
  });
}

Tensor Tensor::reshape(const Shape& requested) const {
  const Shape shape = infer_shape(requested, numel(), "reshape", this->shape());
  if (is_contiguous()) return view(shape);
  return contiguous().view(shape);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  const int64_t s = wrap_dim(start_dim, "flatten");
  const int64_t e = wrap_dim(end_dim, "flatten");
  TINYML_CHECK(s <= e, "flatten: start_dim {} is after end_dim {} for shape {}", start_dim, end_dim,
               shape_str(shape()));
  Shape out(shape().begin(), shape().begin() + s);
  int64_t m = 1;
  for (int64_t d = s; d <= e; ++d) m *= shape()[static_cast<size_t>(d)];
  out.push_back(m);
  out.insert(out.end(), shape().begin() + e + 1, shape().end());
  return reshape(out);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = wrap_dim(d, "unsqueeze", true);
  Shape shape = this->shape();
  Shape strides = this->strides();
  const int64_t st = d < dim() ? strides[static_cast<size_t>(d)] * shape[static_cast<size_t>(d)] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, st);
  Tensor out = make_view(*this, std::move(shape), std::move(strides), offset());
  return record(out, "UnsqueezeBackward0", {*this},
                [](Node& n, const Tensor& g) { return std::vector<Tensor>{g.reshape(n.inputs[0].shape())}; });
}

Tensor Tensor::squeeze(int64_t d) const {
  d = wrap_dim(d, "squeeze");
  if (shape()[static_cast<size_t>(d)] != 1) return *this;
  Shape shape = this->shape();
  Shape strides = this->strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  Tensor out = make_view(*this, std::move(shape), std::move(strides), offset());
  return record(out, "SqueezeBackward0", {*this},
                [](Node& n, const Tensor& g) { return std::vector<Tensor>{g.reshape(n.inputs[0].shape())}; });
}

Tensor Tensor::permute(const Shape& dims) const {
  TINYML_CHECK(static_cast<int64_t>(dims.size()) == dim(), "permute: {} dims given for a tensor of shape {}",
               dims.size(), shape_str(shape()));
  Shape wrapped(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    wrapped[i] = wrap_dim(dims[i], "permute");
    TINYML_CHECK(std::find(wrapped.begin(), wrapped.begin() + static_cast<std::ptrdiff_t>(i), wrapped[i]) ==
                     wrapped.begin() + static_cast<std::ptrdiff_t>(i),
                 "permute: repeated dim in {}", shape_str(dims));
  }
  Shape shape(dims.size()), strides(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    shape[i] = this->shape()[static_cast<size_t>(wrapped[i])];
    strides[i] = this->strides()[static_cast<size_t>(wrapped[i])];
  }
  Tensor out = make_view(*this, std::move(shape), std::move(strides), offset());
  if (!autograd::any_requires_grad({this})) return out;
  Shape inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inverse[static_cast<size_t>(wrapped[i])] = static_cast<int64_t>(i);
  return record(
      out, "PermuteBackward0", {*this},
      [](Node& n, const Tensor& g) {
        return std::vector<Tensor>{g.permute(Shape(n.args.ints.begin(), n.args.ints.end()))};
      },
      {}, OpArgs::list(inverse));
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  d0 = wrap_dim(d0, "transpose");
  d1 = wrap_dim(d1, "transpose");
  if (dim() == 0) return *this;
  // The view permute(dims) with dims[d0] and dims[d1] swapped, without building dims.
  Shape shape = this->shape(), strides = this->strides();
  std::swap(shape[static_cast<size_t>(d0)], shape[static_cast<size_t>(d1)]);
  std::swap(strides[static_cast<size_t>(d0)], strides[static_cast<size_t>(d1)]);
  Tensor out = make_view(*this, std::move(shape), std::move(strides), offset());
  if (!autograd::any_requires_grad({this})) return out;
  return record(
      out, "TransposeBackward0", {*this},
      [](Node& n, const Tensor& g) {
        return std::vector<Tensor>{g.transpose(n.args.ints[0], n.args.ints[1])};
      },
      {}, OpArgs::list({d0, d1}));  // the backward swaps the same two dims back
}

Tensor Tensor::t() const {
  TINYML_CHECK(dim() <= 2, "t: expects a tensor with <= 2 dims, got shape {}", shape_str(shape()));
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  d = wrap_dim(d, "slice");
  TINYML_CHECK(step > 0, "slice: step must be positive, got {}", step);
  const int64_t n = shape()[static_cast<size_t>(d)];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape shape = this->shape();
  Shape strides = this->strides();
  shape[static_cast<size_t>(d)] = (end - start + step - 1) / step;
  const int64_t off = offset() + start * strides[static_cast<size_t>(d)];
  strides[static_cast<size_t>(d)] *= step;
  Tensor out = make_view(*this, std::move(shape), std::move(strides), off);
  return record(
      out, "SliceBackward0", {*this},
      [](Node& n, const Tensor& g) {
        Tensor gi = Tensor::zeros(n.inputs[0].shape());
        gi.slice(n.args.dim, n.args.start, n.args.end, n.args.step).copy_(g);
        return std::vector<Tensor>{gi};
      },
      {}, OpArgs::slice(d, start, end, step));
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  const int64_t w = wrap_dim(d, "narrow");
  const int64_t n = shape()[static_cast<size_t>(w)];
  if (start < 0) start += n;
  TINYML_CHECK(start >= 0 && length >= 0 && start + length <= n,
               "narrow: start {} + length {} exceeds dim {} of size {} (shape {})", start, length, w, n,
               shape_str(shape()));
  return slice(w, start, start + length);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  d = wrap_dim(d, "select");
  const int64_t n = shape()[static_cast<size_t>(d)];
  TINYML_CHECK(index >= -n && index < n, "select: index {} out of range for dim {} of size {} (shape {})",
               index, d, n, shape_str(shape()));
  if (index < 0) index += n;
  return slice(d, index, index + 1).squeeze(d);
}

Tensor Tensor::expand(const Shape& target) const {
  TINYML_CHECK(target.size() >= shape().size(), "expand: cannot expand shape {} to {}", shape_str(shape()),
               shape_str(target));
  Shape t = target;
  const size_t lead = target.size() - shape().size();
  for (size_t i = 0; i < lead; ++i)
    TINYML_CHECK(t[i] >= 0, "expand: cannot expand shape {} to {}: a new leading dim must be >= 0, got {}",
                 shape_str(shape()), shape_str(target), t[i]);
  for (size_t i = 0; i < shape().size(); ++i) {
    if (t[lead + i] == -1) t[lead + i] = shape()[i];
    TINYML_CHECK(t[lead + i] >= 0 && (shape()[i] == t[lead + i] || shape()[i] == 1),
                 "expand: cannot expand shape {} to {}", shape_str(shape()), shape_str(target));
  }
  Tensor out = make_view(*this, t, detail::broadcast_strides(shape(), strides(), t), offset());
  return record(out, "ExpandBackward0", {*this},
                [](Node& n, const Tensor& g) { return std::vector<Tensor>{sum_to(g, n.inputs[0].shape())}; });
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = Tensor::empty(shape());
  out.copy_(*this);
  return record(out, "CloneBackward0", {*this},
                [](Node&, const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  TINYML_CHECK(!tensors.empty(), "cat: expects a non-empty list of tensors");
  const Tensor& first = tensors[0];
  const int64_t d = first.wrap_dim(dim, "cat");
  Shape shape = first.shape();
  int64_t total = 0;
  for (const auto& t : tensors) {
    TINYML_CHECK(t.dim() == first.dim(), "cat: tensors must have the same rank, got {} and {}",
                 shape_str(first.shape()), shape_str(t.shape()));
    for (int64_t i = 0; i < t.dim(); ++i)
      TINYML_CHECK(i == d || t.shape()[static_cast<size_t>(i)] == first.shape()[static_cast<size_t>(i)],
                   "cat: shapes {} and {} differ outside dim {}", shape_str(first.shape()),
                   shape_str(t.shape()), d);
    total += t.shape()[static_cast<size_t>(d)];
  }
  shape[static_cast<size_t>(d)] = total;
  Tensor out = Tensor::empty(shape);
  std::vector<int64_t> sizes;
  int64_t at = 0;
  for (const auto& t : tensors) {
    const int64_t n = t.shape()[static_cast<size_t>(d)];
    out.detach().narrow(d, at, n).copy_(t);
    sizes.push_back(n);
    at += n;
  }
  return record(
      out, "CatBackward0", tensors,
      [](Node& n, const Tensor& g) {
        std::vector<Tensor> grads;
        int64_t pos = 0;
        for (const int64_t size : n.args.ints) {
          grads.push_back(g.narrow(n.args.dim, pos, size).contiguous());
          pos += size;
        }
        return grads;
      },
      {}, OpArgs::list(sizes, d));
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  TINYML_CHECK(!tensors.empty(), "stack: expects a non-empty list of tensors");
  const int64_t d = tensors[0].wrap_dim(dim, "stack", true);
  std::vector<Tensor> parts;
  for (const auto& t : tensors) {
    TINYML_CHECK(t.shape() == tensors[0].shape(), "stack: all tensors need one shape, got {} and {}",
                 shape_str(tensors[0].shape()), shape_str(t.shape()));
    parts.push_back(t.unsqueeze(d));
  }
  return cat(parts, d);
}

}  // namespace tinyml

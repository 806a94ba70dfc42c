#include "tinyml/data/dataset.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "tinyml/core/error.hpp"

namespace tinyml::data {

namespace {

// Shape of a batch of `b` examples of shape `item`.
Shape batch_shape(size_t b, const Shape& item) {
  Shape s;
  s.reserve(item.size() + 1);
  s.push_back(static_cast<int64_t>(b));
  s.insert(s.end(), item.begin(), item.end());
  return s;
}

// A detached row-major copy: the dataset must own its values and index rows by plain offsets.
Tensor owned_copy(const Tensor& t) { return Tensor::from_vector(t.to_vector(), t.shape()); }

// Copies rows `indices` of the row-major `src` (rows of `row` floats) into `dst`.
void gather_rows(const float* src, size_t row, std::span<const size_t> indices, float* dst) {
  if (row == 0) return;
  for (size_t k = 0; k < indices.size(); ++k) {
    std::memcpy(dst + k * row, src + indices[k] * row, row * sizeof(float));
  }
}

}  // namespace

Batch Dataset::get_batch(std::span<const size_t> indices) const {
  TINYML_CHECK(!indices.empty(), "Dataset::get_batch: expected at least one index, got none");
  const size_t n = size();
  std::vector<Example> items;
  items.reserve(indices.size());
  for (size_t i : indices) {
    TINYML_CHECK(i < n, "Dataset::get_batch: index {} out of range for a dataset of size {}", i, n);
    items.push_back(get(i));
    const Example& e = items.back();
    TINYML_CHECK(e.data.defined() && e.target.defined(),
                 "Dataset::get_batch: get({}) returned an undefined data or target tensor", i);
    TINYML_CHECK(
        e.data.shape() == items.front().data.shape() && e.target.shape() == items.front().target.shape(),
        "Dataset::get_batch: example {} has data {} and target {}, but the first example of "
        "the batch (index {}) has data {} and target {}; every example must match to stack",
        i, shape_str(e.data.shape()), shape_str(e.target.shape()), indices.front(),
        shape_str(items.front().data.shape()), shape_str(items.front().target.shape()));
  }
  const Shape& dshape = items.front().data.shape();
  const Shape& tshape = items.front().target.shape();
  Batch b{Tensor::empty(batch_shape(items.size(), dshape)), Tensor::empty(batch_shape(items.size(), tshape))};
  const size_t drow = static_cast<size_t>(numel_of(dshape));
  const size_t trow = static_cast<size_t>(numel_of(tshape));
  for (size_t k = 0; k < items.size(); ++k) {
    // to_vector handles any strides the example may have.
    const std::vector<float> d = items[k].data.to_vector();
    const std::vector<float> t = items[k].target.to_vector();
    std::copy(d.begin(), d.end(), b.data.data() + k * drow);
    std::copy(t.begin(), t.end(), b.target.data() + k * trow);
  }
  return b;
}

TensorDataset::TensorDataset(const Tensor& data, const Tensor& targets) {
  TINYML_CHECK(data.defined() && targets.defined(),
               "TensorDataset: data and targets must both be defined tensors");
  TINYML_CHECK(data.dim() >= 1 && targets.dim() >= 1,
               "TensorDataset: data and targets need a first (example) dim, got data {} and targets {}",
               shape_str(data.shape()), shape_str(targets.shape()));
  TINYML_CHECK(data.size(0) == targets.size(0),
               "TensorDataset: data and targets must have the same first dim (number of examples), "
               "got data {} and targets {}",
               shape_str(data.shape()), shape_str(targets.shape()));
  data_ = owned_copy(data);
  targets_ = owned_copy(targets);
  n_ = static_cast<size_t>(data.size(0));
}

Example TensorDataset::get(size_t i) const {
  TINYML_CHECK(i < n_, "TensorDataset::get: index {} out of range for a dataset of size {}", i, n_);
  const Shape dshape(data_.shape().begin() + 1, data_.shape().end());
  const Shape tshape(targets_.shape().begin() + 1, targets_.shape().end());
  const size_t drow = static_cast<size_t>(numel_of(dshape));
  const size_t trow = static_cast<size_t>(numel_of(tshape));
  return {Tensor::from_data(data_.data() + i * drow, dshape),
          Tensor::from_data(targets_.data() + i * trow, tshape)};
}

Batch TensorDataset::get_batch(std::span<const size_t> indices) const {
  TINYML_CHECK(!indices.empty(), "TensorDataset::get_batch: expected at least one index, got none");
  for (size_t i : indices) {
    TINYML_CHECK(i < n_, "TensorDataset::get_batch: index {} out of range for a dataset of size {}", i, n_);
  }
  const Shape dshape(data_.shape().begin() + 1, data_.shape().end());
  const Shape tshape(targets_.shape().begin() + 1, targets_.shape().end());
  Batch b{Tensor::empty(batch_shape(indices.size(), dshape)),
          Tensor::empty(batch_shape(indices.size(), tshape))};
  gather_rows(data_.data(), static_cast<size_t>(numel_of(dshape)), indices, b.data.data());
  gather_rows(targets_.data(), static_cast<size_t>(numel_of(tshape)), indices, b.target.data());
  return b;
}

}  // namespace tinyml::data

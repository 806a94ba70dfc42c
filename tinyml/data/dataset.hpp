// Dataset: indexed access to (data, target) examples, with a batched path the DataLoader uses.
#pragma once

#include <cstddef>
#include <span>

#include "tinyml/core/tensor.hpp"

namespace tinyml::data {

// One example: `data` and `target` as returned by Dataset::get (e.g. (784) and a 0-D class index).
struct Example {
  Tensor data;
  Tensor target;
};

// Examples stacked along a new dim 0: data (B, ...), target (B, ...).
struct Batch {
  Tensor data;
  Tensor target;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  virtual Example get(size_t i) const = 0;
  // The default stacks get(i) for every index; datasets override it to fill the batch in one pass
  // (the loader calls only this). Every example must have the same data and target shapes.
  virtual Batch get_batch(std::span<const size_t> indices) const;
};

// A dataset over two tensors whose first dims are the example index: data (N, ...), targets (N, ...).
// Both are copied (detached, contiguous) at construction, so later changes to the inputs do not leak in.
class TensorDataset : public Dataset {
 public:
  TensorDataset(const Tensor& data, const Tensor& targets);
  size_t size() const override { return n_; }
  Example get(size_t i) const override;
  Batch get_batch(std::span<const size_t> indices) const override;

  const Tensor& data() const { return data_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor data_;
  Tensor targets_;
  size_t n_ = 0;
};

}  // namespace tinyml::data

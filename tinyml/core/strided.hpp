// Strided iteration: walks N tensors of one shape by their own strides, a contiguous row at a time.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "tinyml/core/tensor.hpp"

namespace tinyml::detail {

// Visits every element of `shape` in row-major order. For each run along the innermost
// (coalesced) dimension it calls row(offsets, n, inner_strides): operand k's elements are at
// offsets[k] + i * inner_strides[k] for i < n. Adjacent dims that are laid out contiguously for
// every operand are merged first, so contiguous tensors become a single run.
template <size_t N, class Row>
void for_each_row(const Shape& shape, std::array<Shape, N> strides, std::array<int64_t, N> offsets,
                  Row&& row) {
  Shape dims = shape;
  // Drop size-1 dims, then coalesce.
  {
    Shape d2;
    std::array<Shape, N> s2;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] == 1) continue;
      d2.push_back(dims[i]);
      for (size_t k = 0; k < N; ++k) s2[k].push_back(strides[k][i]);
    }
    dims = std::move(d2);
    strides = std::move(s2);
  }
  for (int64_t d : dims)
    if (d == 0) return;
  if (dims.empty()) {
    std::array<int64_t, N> one{};
    row(offsets, int64_t{1}, one);
    return;
  }
  Shape cd{dims[0]};
  std::array<Shape, N> cs;
  for (size_t k = 0; k < N; ++k) cs[k].push_back(strides[k][0]);
  for (size_t i = 1; i < dims.size(); ++i) {
    bool mergeable = true;
    for (size_t k = 0; k < N; ++k)
      if (cs[k].back() != strides[k][i] * dims[i]) mergeable = false;
    if (mergeable) {
      cd.back() *= dims[i];
      for (size_t k = 0; k < N; ++k) cs[k].back() = strides[k][i];
    } else {
      cd.push_back(dims[i]);
      for (size_t k = 0; k < N; ++k) cs[k].push_back(strides[k][i]);
    }
  }
  const size_t nd = cd.size();
  const int64_t inner = cd[nd - 1];
  std::array<int64_t, N> inner_strides;
  for (size_t k = 0; k < N; ++k) inner_strides[k] = cs[k][nd - 1];
  if (nd == 1) {
    row(offsets, inner, inner_strides);
    return;
  }
  std::vector<int64_t> counter(nd - 1, 0);
  std::array<int64_t, N> off = offsets;
  while (true) {
    row(off, inner, inner_strides);
    // Increment the multi-index over the outer dims.
    size_t d = nd - 1;
    while (d > 0) {
      --d;
      ++counter[d];
      for (size_t k = 0; k < N; ++k) off[k] += cs[k][d];
      if (counter[d] < cd[d]) break;
      for (size_t k = 0; k < N; ++k) off[k] -= cs[k][d] * cd[d];
      counter[d] = 0;
      if (d == 0) return;
    }
  }
}

// Strides that read a tensor of `from` shape broadcast up to `to` (0 on broadcast dims).
Shape broadcast_strides(const Shape& from, const Shape& from_strides, const Shape& to);

}  // namespace tinyml::detail

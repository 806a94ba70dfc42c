// Milestone 01: a tour of tensor views — one storage, many shapes, strides and offsets.
#include <fmt/format.h>

#include <string>

#include "tinyml/core/tensor.hpp"
#include "tinyml/ops/ops.hpp"

using namespace tinyml;

namespace {
void show(const char* name, const Tensor& t) {
  fmt::print("{} = {}\n    shape {}  strides {}  offset {}  contiguous {}\n\n", name, to_string(t),
             shape_str(t.shape()), shape_str(t.strides()), t.offset(), t.is_contiguous() ? "yes" : "no");
}
}  // namespace

int main() {
  Tensor a = Tensor::arange(12).reshape({3, 4});
  show("a", a);
  show("a.t()", a.t());
  show("a.slice(1, 0, 4, 2)", a.slice(1, 0, 4, 2));
  show("a[1]", a[1]);
  Tensor col = a.slice(1, 3, 4);
  col.fill_(-1.0f);
  fmt::print("after a.slice(1, 3, 4).fill_(-1), a shares the write:\n");
  show("a", a);
  Tensor grid = Tensor::zeros({2, 4});
  grid.copy_(a[0]);
  show("zeros({2, 4}).copy_(a[0])", grid);
  fmt::print("every view above shares a's storage: {}\n",
             a.t().same_storage(a) && a[1].same_storage(a) && col.same_storage(a) ? "yes" : "no");
  return 0;
}

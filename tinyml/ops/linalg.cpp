// matmul and linear through sgemm; transposed operands are passed to BLAS as flags, never copied.
#include "tinyml/autograd/node.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/kernels/sgemm.hpp"
#include "tinyml/ops/ops.hpp"

namespace tinyml {

using autograd::Node;
using autograd::record;

namespace {

// A 2-D operand as BLAS sees it: row-major data, a transpose flag and a leading dimension.
struct Operand {
  Tensor keep;  // holds the storage alive (a contiguous copy when the layout needed one)
  const float* ptr;
  bool trans;
  int64_t ld;
};

Operand as_operand(const Tensor& t) {
  const int64_t r = t.shape()[0], c = t.shape()[1];
  const int64_t s0 = t.strides()[0], s1 = t.strides()[1];
  if (s1 == 1 && (s0 >= c || r == 1))
    return {t, t.data(), false, std::max<int64_t>(s0, std::max<int64_t>(c, 1))};
  if (s0 == 1 && (s1 >= r || c == 1))
    return {t, t.data(), true, std::max<int64_t>(s1, std::max<int64_t>(r, 1))};
  Tensor cont = t.contiguous();
  return {cont, cont.data(), false, std::max<int64_t>(c, 1)};
}

// out (M×N, contiguous) = alpha · a(M×K) · b(K×N) + beta · out.
void gemm_into(const Tensor& a, const Tensor& b, Tensor& out, float beta) {
  const Operand A = as_operand(a);
  const Operand B = as_operand(b);
  kernels::sgemm(A.trans, B.trans, a.shape()[0], b.shape()[1], a.shape()[1], 1.0f, A.ptr, A.ld, B.ptr, B.ld,
                 beta, out.data(), std::max<int64_t>(out.shape()[1], 1));
}

Tensor mm_raw(const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::empty({a.shape()[0], b.shape()[1]});
  gemm_into(a, b, out, 0.0f);
  return out;
}

Tensor mm(const Tensor& a, const Tensor& b) {
  TINYML_CHECK(a.shape()[1] == b.shape()[0], "matmul: shapes {} and {} cannot be multiplied ({} != {})",
               shape_str(a.shape()), shape_str(b.shape()), a.shape()[1], b.shape()[0]);
  Tensor out = mm_raw(a, b);
  return record(out, "MmBackward0", {a, b}, [](Node& n, const Tensor& g) {
    const Tensor& x = n.inputs[0];
    const Tensor& y = n.inputs[1];
    return std::vector<Tensor>{x.requires_grad() ? mm_raw(g, y.t()) : Tensor(),
                               y.requires_grad() ? mm_raw(x.t(), g) : Tensor()};
  });
}

Tensor bmm_raw(const Tensor& a, const Tensor& b) {
  const int64_t batch = a.shape()[0];
  Tensor out = Tensor::empty({batch, a.shape()[1], b.shape()[2]});
  for (int64_t i = 0; i < batch; ++i) {
    Tensor o = out.detach().select(0, i);
    gemm_into(a.detach().select(0, i), b.detach().select(0, i), o, 0.0f);
  }
  return out;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  // matmul() has checked the user's shapes already; this guards the internal callers.
  TINYML_CHECK(a.shape()[0] == b.shape()[0] && a.shape()[2] == b.shape()[1],
               "matmul: batched shapes {} and {} cannot be multiplied (expected (B, M, K) and (B, K, N))",
               shape_str(a.shape()), shape_str(b.shape()));
  Tensor out = bmm_raw(a, b);
  return record(out, "BmmBackward0", {a, b}, [](Node& n, const Tensor& g) {
    const Tensor& x = n.inputs[0];
    const Tensor& y = n.inputs[1];
    return std::vector<Tensor>{x.requires_grad() ? bmm_raw(g, y.transpose(1, 2)) : Tensor(),
                               y.requires_grad() ? bmm_raw(x.transpose(1, 2), g) : Tensor()};
  });
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  TINYML_CHECK(a.defined() && b.defined(), "matmul: an operand is undefined");
  const int64_t da = a.dim(), db = b.dim();
  TINYML_CHECK(da >= 1 && da <= 3 && db >= 1 && db <= 3,
               "matmul: supports 1-D, 2-D and 3-D operands, got shapes {} and {}", shape_str(a.shape()),
               shape_str(b.shape()));
  // Every shape is checked here, against the shapes the caller passed: the 1-D cases below are
  // promoted to 2-D, and a message about the promoted shapes would name shapes the caller never made.
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  const int64_t ka = sa.back();                     // contracted extent of a
  const int64_t kb = db == 1 ? sb[0] : sb[db - 2];  // contracted extent of b
  TINYML_CHECK(
      ka == kb,
      "matmul: shapes {} and {} cannot be multiplied: the last dim of the first ({}) must equal the {} "
      "dim of the second ({})",
      shape_str(sa), shape_str(sb), ka, db == 1 ? "only" : "second-to-last", kb);
  if (da == 3 && db == 3)
    TINYML_CHECK(sa[0] == sb[0], "matmul: batched shapes {} and {} have different batch sizes ({} vs {})",
                 shape_str(sa), shape_str(sb), sa[0], sb[0]);
  if (da == 1 && db == 1) return mm(a.unsqueeze(0), b.unsqueeze(1)).reshape({});
  if (da == 1) return matmul(a.unsqueeze(0), b).squeeze(-2);
  if (db == 1) return matmul(a, b.unsqueeze(1)).squeeze(-1);
  if (da == 2 && db == 2) return mm(a, b);
  if (da == 3 && db == 2) {
    return mm(a.reshape({-1, a.shape()[2]}), b).reshape({a.shape()[0], a.shape()[1], b.shape()[1]});
  }
  if (da == 2 && db == 3) return bmm(a.unsqueeze(0).expand({b.shape()[0], a.shape()[0], a.shape()[1]}), b);
  return bmm(a, b);
}

Tensor Tensor::matmul(const Tensor& other) const { return tinyml::matmul(*this, other); }

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  TINYML_CHECK(x.defined() && w.defined(), "linear: input or weight is undefined");
  TINYML_CHECK(w.dim() == 2, "linear: weight must be 2-D (out, in), got shape {}", shape_str(w.shape()));
  TINYML_CHECK(x.dim() == 2 && x.shape()[1] == w.shape()[1],
               "linear: input of shape {} does not match weight of shape {} (expected (N, {}))",
               shape_str(x.shape()), shape_str(w.shape()), w.shape()[1]);
  const int64_t n = x.shape()[0], out_f = w.shape()[0];
  if (b.defined())
    TINYML_CHECK(b.dim() == 1 && b.shape()[0] == out_f,
                 "linear: bias of shape {} does not match weight of shape {}", shape_str(b.shape()),
                 shape_str(w.shape()));
  Tensor out = Tensor::empty({n, out_f});
  float beta = 0.0f;
  if (b.defined()) {
    // Start C from the bias rows and let sgemm add x·wᵀ (beta = 1): the bias add is free.
    const Tensor bc = b.contiguous();
    for (int64_t i = 0; i < n; ++i) std::copy_n(bc.data(), out_f, out.data() + i * out_f);
    beta = 1.0f;
  }
  gemm_into(x, w.t(), out, beta);
  return record(out, "AddmmBackward0", {x, w, b}, [](Node& node, const Tensor& g) {
    const Tensor& xi = node.inputs[0];
    const Tensor& wi = node.inputs[1];
    const Tensor& bi = node.inputs[2];
    return std::vector<Tensor>{xi.requires_grad() ? mm_raw(g, wi) : Tensor(),
                               wi.requires_grad() ? mm_raw(g.t(), xi) : Tensor(),
                               bi.defined() && bi.requires_grad() ? sum(g, 0, false) : Tensor()};
  });
}

}  // namespace tinyml

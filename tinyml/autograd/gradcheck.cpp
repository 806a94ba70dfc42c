#include "tinyml/autograd/gradcheck.hpp"

#include <cmath>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"

namespace tinyml {

namespace {
// sum(out * r) in double: the scalar whose gradient is checked.
double weighted_sum(const Tensor& out, const std::vector<float>& r) {
  const auto v = out.to_vector();
  double s = 0.0;
  for (size_t i = 0; i < v.size(); ++i) s += static_cast<double>(v[i]) * r[i];
  return s;
}
}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, GradcheckOptions options) {
  TINYML_CHECK(!inputs.empty(), "gradcheck: no inputs");
  // Fresh contiguous leaves so that perturbing them cannot touch the caller's tensors.
  std::vector<Tensor> xs;
  bool any = false;
  for (const auto& in : inputs) {
    TINYML_CHECK(in.defined(), "gradcheck: an input is undefined");
    Tensor x = in.detach().clone();
    if (in.requires_grad()) {
      x.requires_grad_(true);
      any = true;
    }
    xs.push_back(x);
  }
  TINYML_CHECK(any, "gradcheck: no input requires grad");

  Tensor out;
  {
    EnableGradGuard grad_on;
    out = fn(xs);
  }
  TINYML_CHECK(out.defined(), "gradcheck: the function returned an undefined tensor");
  Generator gen(1234);
  std::vector<float> r(static_cast<size_t>(out.numel()));
  for (auto& v : r) v = gen.uniform(0.5f, 1.5f);
  if (!out.requires_grad())
    return {false, 0.0,
            "gradcheck: the output does not require grad (the function is not differentiable here)"};
  out.backward(Tensor::from_vector(r, out.shape()));

  GradcheckResult result;
  NoGradGuard no_grad;
  for (size_t k = 0; k < xs.size(); ++k) {
    if (!xs[k].requires_grad()) continue;
    const Tensor analytic = xs[k].grad().defined() ? xs[k].grad() : Tensor::zeros(xs[k].shape());
    const auto a = analytic.to_vector();
    float* p = xs[k].data();
    for (int64_t i = 0; i < xs[k].numel(); ++i) {
      const float orig = p[i];
      p[i] = static_cast<float>(orig + options.eps);
      const double plus = weighted_sum(fn(xs), r);
      p[i] = static_cast<float>(orig - options.eps);
      const double minus = weighted_sum(fn(xs), r);
      p[i] = orig;
      const double numeric = (plus - minus) / (2.0 * options.eps);
      const double err = std::fabs(numeric - a[static_cast<size_t>(i)]);
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (err > options.atol + options.rtol * std::fabs(numeric) && result.ok) {
        result.ok = false;
        result.message = fmt::format("gradcheck: input {} (shape {}) element {}: analytic {} vs numeric {}",
                                     k, shape_str(xs[k].shape()), i, a[static_cast<size_t>(i)], numeric);
      }
    }
  }
  return result;
}

}  // namespace tinyml

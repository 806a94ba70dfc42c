// Tests of tinyml::optim: SGD (momentum, dampening, Nesterov, weight decay), Adam, AdamW, StepLR.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <vector>

#include "tinyml/autograd/grad_mode.hpp"
#include "tinyml/core/error.hpp"
#include "tinyml/ops/ops.hpp"
#include "tinyml/optim/optim.hpp"

namespace {

using tinyml::Error;
using tinyml::Tensor;
namespace optim = tinyml::optim;

// The fixed quadratic f(w) = ½ Σ a_i (w_i − c_i)², gradient a_i (w_i − c_i), from w0.
const std::array<float, 3> kA = {1.0f, 4.0f, 0.5f};
const std::array<float, 3> kC = {1.0f, -2.0f, 3.0f};
const std::array<float, 3> kW0 = {0.5f, 1.5f, -1.0f};

using Trajectory = std::vector<std::array<float, 3>>;

// Reference trajectories: w after each of 10 steps, recorded from PyTorch 1.13 with
//
//   a = torch.tensor([1.0, 4.0, 0.5]); c = torch.tensor([1.0, -2.0, 3.0])
//   w = torch.tensor([0.5, 1.5, -1.0], requires_grad=True); opt = make([w])
//   for _ in range(10):
//       opt.zero_grad(); (0.5 * (a * (w - c) ** 2).sum()).backward(); opt.step()
//       print(w.detach().tolist())
//
// with `make` given in the comment above each table.

// torch.optim.SGD(p, lr=0.1)
const Trajectory kSgd = {
    {0.550000012f, 0.099999979f, -0.800000012f},  {0.595000029f, -0.740000010f, -0.610000014f},
    {0.635500014f, -1.243999958f, -0.429500014f}, {0.671950042f, -1.546399951f, -0.258025020f},
    {0.704755068f, -1.727839947f, -0.095123768f}, {0.734279573f, -1.836704016f, 0.059632424f},
    {0.760851622f, -1.902022362f, 0.206650794f},  {0.784766436f, -1.941213369f, 0.346318245f},
    {0.806289792f, -1.964727998f, 0.479002327f},  {0.825660825f, -1.978836775f, 0.605052233f},
};
// torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.05)
const Trajectory kSgdMomentum = {
    {0.547500014f, 0.092500001f, -0.795000017f}, {0.628511250f, -1.927966237f, -0.436147541f},
    {0.732027054f, -3.763642311f, 0.043408979f}, {0.846014738f, -4.763903141f, 0.607861102f},
    {0.958655238f, -4.647695065f, 1.220778942f}, {1.059438825f, -3.569022894f, 1.846976399f},
    {1.140027046f, -2.017309189f, 2.454128742f}, {1.194823861f, -0.605457664f, 3.014086485f},
    {1.221230149f, 0.165897980f, 3.503851175f},  {1.219589591f, 0.079648197f, 3.906198740f},
};
// torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)
const Trajectory kSgdNesterov = {
    {0.540499985f, 0.226500019f, -0.810999990f},  {0.591390491f, -1.029878497f, -0.565006018f},
    {0.647337258f, -2.017810106f, -0.282164484f}, {0.704029441f, -2.632483482f, 0.020785498f},
    {0.758167148f, -2.883756638f, 0.330251127f},  {0.807396054f, -2.852396250f, 0.635488927f},
    {0.850206316f, -2.647709846f, 0.928288758f},  {0.885809541f, -2.374748707f, 1.202652812f},
    {0.914006054f, -2.114321947f, 1.454479694f},  {0.935052276f, -1.915254593f, 1.681262970f},
};
// torch.optim.Adam(p, lr=0.1)
const Trajectory kAdam = {
    {0.599999964f, 1.399999976f, -0.900000036f}, {0.698812544f, 1.300086021f, -0.800074041f},
    {0.795128703f, 1.200318933f, -0.700273871f}, {0.887084544f, 1.100762010f, -0.600653291f},
    {0.972185493f, 1.001481056f, -0.501267612f}, {1.047431469f, 0.902544141f, -0.402173936f},
    {1.109788775f, 0.804021716f, -0.303430855f}, {1.156945944f, 0.705986321f, -0.205098361f},
    {1.187951446f, 0.608512461f, -0.107237853f}, {1.203322768f, 0.511676610f, -0.009911880f},
};
// torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True)
const Trajectory kAdamWdAmsgrad = {
    {0.549999893f, 1.450000048f, -0.950000048f}, {0.599549472f, 1.400040030f, -0.900039494f},
    {0.648261607f, 1.350147128f, -0.850145042f}, {0.695675552f, 1.300348163f, -0.800343156f},
    {0.741255045f, 1.250669718f, -0.750659943f}, {0.784394145f, 1.201137662f, -0.701120853f},
    {0.824435651f, 1.151777029f, -0.651750624f}, {0.860705793f, 1.102611899f, -0.602572918f},
    {0.892477334f, 1.053665161f, -0.553610146f}, {0.919191420f, 1.004958391f, -0.504883587f},
};
// torch.optim.AdamW(p, lr=0.1, weight_decay=0.1)
const Trajectory kAdamW = {
    {0.594999969f, 1.384999990f, -0.890000045f}, {0.687959194f, 1.271250963f, -0.781182468f},
    {0.777756155f, 1.158810973f, -0.673592210f}, {0.862859249f, 1.047739625f, -0.567275107f},
    {0.941288948f, 0.938097954f, -0.462277502f}, {1.010708570f, 0.829948306f, -0.358646214f},
    {1.068727612f, 0.723353982f, -0.256428301f}, {1.113397479f, 0.618378997f, -0.155670911f},
    {1.143698573f, 0.515088081f, -0.056421079f}, {1.159753084f, 0.413546085f, 0.041274481f},
};

Tensor start_point() { return Tensor::from_vector({kW0[0], kW0[1], kW0[2]}, {3}).requires_grad_(); }

// Sets the analytic gradient, in float like PyTorch's autograd would compute it.
void set_quadratic_grad(Tensor& w) {
  std::vector<float> g(3);
  for (int i = 0; i < 3; ++i)
    g[static_cast<size_t>(i)] = kA[static_cast<size_t>(i)] * (w.at({i}) - kC[static_cast<size_t>(i)]);
  w.set_grad(Tensor::from_vector(g, {3}));
}

// Both implementations do the same float operations in the same order, so they agree to a few
// ulps per step; 1e-5 leaves room for ten steps of that (values are of order 1-5) while a wrong
// formula (a missing bias correction, momentum applied once too often) is off by > 1e-3.
constexpr float kTol = 1e-5f;

void expect_trajectory(optim::Optimizer& opt, Tensor& w, const Trajectory& expected) {
  for (size_t step = 0; step < expected.size(); ++step) {
    opt.zero_grad();
    set_quadratic_grad(w);
    opt.step();
    for (int i = 0; i < 3; ++i)
      ASSERT_NEAR(w.at({i}), expected[step][static_cast<size_t>(i)], kTol)
          << "step " << step + 1 << ", element " << i;
  }
}

TEST(OptimSGD, PlainMatchesPyTorch) {
  Tensor w = start_point();
  optim::SGD opt({w}, {.lr = 0.1});
  expect_trajectory(opt, w, kSgd);
}

TEST(OptimSGD, MomentumDampeningWeightDecayMatchPyTorch) {
  Tensor w = start_point();
  optim::SGD opt({w}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.05});
  expect_trajectory(opt, w, kSgdMomentum);
}

TEST(OptimSGD, NesterovMatchesPyTorch) {
  Tensor w = start_point();
  optim::SGD opt({w}, {.lr = 0.05, .momentum = 0.8, .weight_decay = 0.1, .nesterov = true});
  expect_trajectory(opt, w, kSgdNesterov);
}

TEST(OptimSGD, FirstMomentumBufferIsTheGradient) {
  // PyTorch starts the buffer at d (not (1 − dampening)·d): after one step b == g exactly.
  Tensor w = start_point();
  optim::SGD opt({w}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.5});
  EXPECT_FALSE(opt.momentum_buffer(0).defined());
  set_quadratic_grad(w);
  const std::vector<float> g = w.grad().to_vector();
  opt.step();
  EXPECT_EQ(opt.momentum_buffer(0).to_vector(), g);
}

TEST(OptimSGD, RejectsBadOptions) {
  Tensor w = start_point();
  EXPECT_THROW(optim::SGD({w}, {.lr = 0.1, .nesterov = true}), Error);  // no momentum
  EXPECT_THROW(optim::SGD({w}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}), Error);
  EXPECT_THROW(optim::SGD({w}, {.lr = -0.1}), Error);
  EXPECT_THROW(optim::SGD({w}, {.lr = 0.1, .momentum = -0.5}), Error);
  EXPECT_THROW(optim::SGD({w}, {.lr = 0.1, .weight_decay = -1.0}), Error);
}

TEST(OptimAdam, MatchesPyTorch) {
  Tensor w = start_point();
  optim::Adam opt({w}, {.lr = 0.1});
  expect_trajectory(opt, w, kAdam);
  EXPECT_EQ(opt.step_count(0), 10);
}

TEST(OptimAdam, WeightDecayAndAmsgradMatchPyTorch) {
  Tensor w = start_point();
  optim::Adam opt(
      {w}, {.lr = 0.05, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6, .weight_decay = 0.1, .amsgrad = true});
  expect_trajectory(opt, w, kAdamWdAmsgrad);
}

TEST(OptimAdam, AdamWMatchesPyTorch) {
  Tensor w = start_point();
  optim::AdamW opt({w}, {.lr = 0.1, .weight_decay = 0.1});
  expect_trajectory(opt, w, kAdamW);
}

TEST(OptimAdam, RejectsBadOptions) {
  Tensor w = start_point();
  EXPECT_THROW(optim::Adam({w}, {.beta1 = 1.0}), Error);
  EXPECT_THROW(optim::Adam({w}, {.beta2 = -0.1}), Error);
  EXPECT_THROW(optim::Adam({w}, {.eps = -1e-8}), Error);
  EXPECT_THROW(optim::Adam({w}, {.weight_decay = -0.1}), Error);
}

TEST(OptimAdam, ThroughAutogradMatchesPyTorch) {
  // The same Adam trajectory with the gradient produced by backward() on tinyml ops.
  Tensor w = start_point();
  const Tensor a = Tensor::from_vector({kA[0], kA[1], kA[2]}, {3});
  const Tensor c = Tensor::from_vector({kC[0], kC[1], kC[2]}, {3});
  optim::Adam opt({w}, {.lr = 0.1});
  for (size_t step = 0; step < kAdam.size(); ++step) {
    opt.zero_grad();
    const Tensor loss = (a * (w - c).pow(2.0f)).sum() * 0.5f;
    loss.backward();
    opt.step();
    for (int i = 0; i < 3; ++i)
      ASSERT_NEAR(w.at({i}), kAdam[step][static_cast<size_t>(i)], kTol) << "step " << step + 1;
  }
}

// The fused loops against the same updates written with Tensor ops, PyTorch style, on two
// parameters of odd sizes (so vectorized bodies and their tails both run) with seeded random
// gradients. Both sides round in float; they differ only in operation order inside an
// expression, a few ulps of values of order 1, so 1e-5 absolute bounds five steps of drift.
TEST(Optimizer, FusedLoopsMatchTensorOpReference) {
  tinyml::Generator gen(2024);
  const std::vector<tinyml::Shape> shapes = {{37, 29}, {13}};
  auto make_params = [&](tinyml::Generator& g) {
    std::vector<Tensor> ps;
    for (const auto& s : shapes) ps.push_back(Tensor::randn(s, g).requires_grad_());
    return ps;
  };
  constexpr int kSteps = 5;
  std::vector<std::vector<Tensor>> grads(kSteps);
  for (auto& step : grads)
    for (const auto& s : shapes) step.push_back(Tensor::randn(s, gen));

  tinyml::NoGradGuard no_grad;
  {  // SGD, Nesterov with weight decay
    tinyml::Generator g(1);
    std::vector<Tensor> ps = make_params(g);
    std::vector<Tensor> ref;
    for (const auto& p : ps) ref.push_back(p.clone());
    const float lr = 0.05f, mom = 0.8f, wd = 0.1f;
    optim::SGD opt(ps, {.lr = lr, .momentum = mom, .weight_decay = wd, .nesterov = true});
    std::vector<Tensor> bufs(ps.size());
    for (int t = 0; t < kSteps; ++t) {
      for (size_t i = 0; i < ps.size(); ++i) {
        ps[i].set_grad(grads[static_cast<size_t>(t)][i]);
        Tensor d = grads[static_cast<size_t>(t)][i] + ref[i] * wd;
        bufs[i] = t == 0 ? d.clone() : bufs[i] * mom + d;
        ref[i].add_(d + bufs[i] * mom, -lr);
      }
      opt.step();
    }
    for (size_t i = 0; i < ps.size(); ++i)
      EXPECT_TRUE(tinyml::allclose(ps[i], ref[i], 0.0f, 1e-5f)) << "SGD param " << i;
  }
  {  // Adam with L2 weight decay
    tinyml::Generator g(1);
    std::vector<Tensor> ps = make_params(g);
    std::vector<Tensor> ref;
    for (const auto& p : ps) ref.push_back(p.clone());
    const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
    optim::Adam opt(ps, {.lr = lr, .beta1 = b1, .beta2 = b2, .eps = eps, .weight_decay = wd});
    std::vector<Tensor> m, v;
    for (const auto& s : shapes) {
      m.push_back(Tensor::zeros(s));
      v.push_back(Tensor::zeros(s));
    }
    for (int t = 1; t <= kSteps; ++t) {
      for (size_t i = 0; i < ps.size(); ++i) {
        ps[i].set_grad(grads[static_cast<size_t>(t - 1)][i]);
        Tensor gr = grads[static_cast<size_t>(t - 1)][i] + ref[i] * static_cast<float>(wd);
        m[i] = m[i] * static_cast<float>(b1) + gr * static_cast<float>(1 - b1);
        v[i] = v[i] * static_cast<float>(b2) + gr * gr * static_cast<float>(1 - b2);
        const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
        Tensor denom = v[i].sqrt() / static_cast<float>(std::sqrt(bc2)) + static_cast<float>(eps);
        ref[i].add_(m[i] / denom, static_cast<float>(-lr / bc1));
      }
      opt.step();
    }
    for (size_t i = 0; i < ps.size(); ++i)
      EXPECT_TRUE(tinyml::allclose(ps[i], ref[i], 0.0f, 1e-5f)) << "Adam param " << i;
  }
}

TEST(Optimizer, SkipsParametersWithoutGradient) {
  Tensor w = start_point();
  Tensor frozen = Tensor::from_vector({1.0f, 2.0f}, {2}).requires_grad_();
  optim::Adam opt({w, frozen}, {.lr = 0.1});
  set_quadratic_grad(w);
  opt.step();
  EXPECT_EQ(frozen.to_vector(), (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(opt.step_count(0), 1);
  EXPECT_EQ(opt.step_count(1), 0);  // PyTorch keeps a per-parameter step that only moves with a grad
  EXPECT_FALSE(opt.exp_avg(1).defined());
}

TEST(Optimizer, ZeroGradDropsGradients) {
  Tensor w = start_point();
  optim::SGD opt({w}, {.lr = 0.1});
  set_quadratic_grad(w);
  ASSERT_TRUE(w.grad().defined());
  opt.zero_grad();
  EXPECT_FALSE(w.grad().defined());
  const std::vector<float> before = w.to_vector();
  opt.step();  // nothing to apply
  EXPECT_EQ(w.to_vector(), before);
}

TEST(Optimizer, ChecksParameters) {
  EXPECT_THROW(optim::SGD({}, {.lr = 0.1}), Error);
  EXPECT_THROW(optim::SGD({Tensor()}, {.lr = 0.1}), Error);
  EXPECT_THROW(optim::SGD({Tensor::zeros({2})}, {.lr = 0.1}), Error);  // does not require grad
  Tensor w = start_point();
  EXPECT_THROW(optim::SGD({w, w}, {.lr = 0.1}), Error);      // listed twice
  EXPECT_THROW(optim::SGD({w * 2.0f}, {.lr = 0.1}), Error);  // not a leaf
  Tensor m = Tensor::zeros({2, 3}).requires_grad_();
  Tensor mt = m.t().detach().requires_grad_();  // a strided leaf
  ASSERT_FALSE(mt.is_contiguous());
  try {
    optim::SGD opt({mt}, {.lr = 0.1});
    ADD_FAILURE() << "a non-contiguous parameter was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("contiguous"), std::string::npos) << e.what();
  }
}

TEST(Optimizer, SetLrChangesTheStep) {
  Tensor w = Tensor::from_vector({1.0f}, {1}).requires_grad_();
  optim::SGD opt({w}, {.lr = 0.1});
  opt.set_lr(0.5);
  EXPECT_DOUBLE_EQ(opt.lr(), 0.5);
  w.set_grad(Tensor::from_vector({2.0f}, {1}));
  opt.step();
  EXPECT_FLOAT_EQ(w.item(), 0.0f);  // 1 − 0.5·2
  EXPECT_THROW(opt.set_lr(-1.0), Error);
}

TEST(OptimStepLR, ScheduleMatchesPyTorch) {
  // torch.optim.lr_scheduler.StepLR(SGD([w], lr=0.1), step_size=3, gamma=0.5); the rate after
  // each of 10 scheduler steps (get_last_lr()[0]) recorded from PyTorch 1.13.
  const std::vector<double> expected = {0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125};
  Tensor w = Tensor::from_vector({1.0f}, {1}).requires_grad_();
  optim::SGD opt({w}, {.lr = 0.1});
  optim::StepLR sched(opt, 3, 0.5);
  EXPECT_DOUBLE_EQ(sched.get_last_lr(), 0.1);
  for (size_t e = 0; e < expected.size(); ++e) {
    opt.step();
    sched.step();
    EXPECT_DOUBLE_EQ(sched.get_last_lr(), expected[e]) << "epoch " << e + 1;
    EXPECT_DOUBLE_EQ(opt.lr(), expected[e]);
  }
  EXPECT_EQ(sched.last_epoch(), 10);
  EXPECT_THROW(optim::StepLR(opt, 0), Error);
}

}  // namespace

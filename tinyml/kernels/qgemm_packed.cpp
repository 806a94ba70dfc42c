#include "tinyml/kernels/qgemm_packed.hpp"

#include <algorithm>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <utility>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/kernels/qgemm.hpp"
#include "tinyml/kernels/sgemm.hpp"

namespace tinyml::kernels {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// The product's primitive for one row count, and the scratchpad each call must give it.
struct PackedKernel {
  dnnl::matmul prim;
  dnnl::memory::desc scratchpad;
};

struct PackedWeightS8::Impl {
  int64_t N = 0, K = 0;
  dnnl::memory::desc packed_desc;  // the layout oneDNN chose for B (K×N)
  dnnl::memory packed;             // the only copy of the weight
  // One primitive per row count M (oneDNN's fast kernels need M fixed when they are generated),
  // made on first use; a handful of sizes at most in practice, cleared if it ever grows past 16.
  mutable std::mutex mutex;
  mutable std::vector<std::pair<int64_t, PackedKernel>> by_rows;
};

namespace {

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// B (K×N) as stored by a Linear weight (N, K) row-major: element (k, n) at n·K + k.
dnnl::memory::desc plain_b_desc(int64_t N, int64_t K) {
  return dnnl::memory::desc({K, N}, dt::s8, dnnl::memory::dims{1, K});
}

// The scratchpad is given by each call (user mode), so that threads running one primitive at once
// share no buffer, whatever oneDNN's build options say about its own scratchpads.
dnnl::matmul::primitive_desc matmul_desc(int64_t M, int64_t N, int64_t K, const dnnl::memory::desc& b) {
  const dnnl::memory::desc a({M, K}, dt::u8, tag::ab);
  const dnnl::memory::desc c({M, N}, dt::s32, tag::ab);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), attr, cpu_engine());
}

PackedKernel make_kernel(int64_t M, int64_t N, int64_t K, const dnnl::memory::desc& b) {
  const auto pd = matmul_desc(M, N, K, b);
  return {dnnl::matmul(pd), pd.scratchpad_desc()};
}

// Runs the kernel on A (M×K) and C (M×N) with a scratchpad of its own.
void execute(const PackedKernel& kernel, const dnnl::memory& b, int64_t M, int64_t N, int64_t K,
             const uint8_t* A, int32_t* C) {
  const dnnl::memory::desc& sd = kernel.scratchpad;
  const auto scratch = std::make_unique_for_overwrite<uint8_t[]>(std::max<size_t>(sd.get_size(), 1));
  auto a = dnnl::memory(dnnl::memory::desc({M, K}, dt::u8, tag::ab), cpu_engine(), const_cast<uint8_t*>(A));
  auto c = dnnl::memory(dnnl::memory::desc({M, N}, dt::s32, tag::ab), cpu_engine(), C);
  auto sp = dnnl::memory(sd, cpu_engine(), scratch.get());
  dnnl::stream s(cpu_engine());
  kernel.prim.execute(
      s, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}, {DNNL_ARG_SCRATCHPAD, sp}});
  s.wait();
}

void reorder(dnnl::memory& from, dnnl::memory& to) {
  dnnl::stream s(cpu_engine());
  dnnl::reorder(from, to).execute(s, from, to);
  s.wait();
}

// The packed layout for (N, K), chosen by oneDNN for a 64-row product; null if it has none.
std::unique_ptr<PackedWeightS8::Impl> pack_impl(int64_t N, int64_t K, const int8_t* B) {
  auto impl = std::make_unique<PackedWeightS8::Impl>();
  impl->N = N;
  impl->K = K;
  try {
    const auto pd = matmul_desc(64, N, K, dnnl::memory::desc({K, N}, dt::s8, tag::any));
    impl->packed_desc = pd.weights_desc();
    impl->packed = dnnl::memory(impl->packed_desc, cpu_engine());
    dnnl::memory plain(plain_b_desc(N, K), cpu_engine(), const_cast<int8_t*>(B));
    reorder(plain, impl->packed);
  } catch (const dnnl::error&) {
    return nullptr;
  }
  return impl;
}

// The packed product on operands whose pairs of u8·s8 products overflow int16 (A all 255, B's
// columns alternating 127 and −128), for one row and for a full block, against the reference.
bool probe_exact() {
  constexpr int64_t N = 64, K = 64;
  std::vector<int8_t> B(static_cast<size_t>(N * K));
  for (int64_t j = 0; j < N; ++j)
    for (int64_t k = 0; k < K; ++k) B[static_cast<size_t>(j * K + k)] = j % 2 == 0 ? 127 : -128;
  auto impl = pack_impl(N, K, B.data());
  if (!impl) return false;
  for (const int64_t M : {int64_t{1}, int64_t{32}}) {
    std::vector<uint8_t> A(static_cast<size_t>(M * K), 255);
    std::vector<int32_t> fast(static_cast<size_t>(M * N)), ref(fast.size());
    try {
      execute(make_kernel(M, N, K, impl->packed_desc), impl->packed, M, N, K, A.data(), fast.data());
    } catch (const dnnl::error&) {
      return false;
    }
    qgemm_reference_u8s8(M, N, K, A.data(), K, B.data(), K, /*trans_b=*/true, ref.data(), N);
    if (fast != ref) return false;
  }
  return true;
}

bool packed_exact() {
  static const bool exact = probe_exact();
  return exact;
}

// The product's primitive for M rows, made on first use (throws dnnl::error if there is none).
PackedKernel kernel_for(const PackedWeightS8::Impl& impl, int64_t M) {
  const std::lock_guard<std::mutex> lock(impl.mutex);
  auto& cache = impl.by_rows;
  const auto hit = std::find_if(cache.begin(), cache.end(), [M](const auto& e) { return e.first == M; });
  if (hit != cache.end()) return hit->second;
  if (cache.size() >= 16) cache.clear();
  PackedKernel kernel = make_kernel(M, impl.N, impl.K, impl.packed_desc);
  cache.emplace_back(M, kernel);
  return kernel;
}

}  // namespace

PackedWeightS8::PackedWeightS8(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PackedWeightS8::~PackedWeightS8() = default;

std::unique_ptr<PackedWeightS8> PackedWeightS8::pack(int64_t N, int64_t K, const int8_t* B) {
  TINYML_CHECK(N >= 0 && K >= 0 && (B != nullptr || N * K == 0),
               "PackedWeightS8::pack: bad weight N={} K={} (data {})", N, K, B ? "given" : "null");
  if (N == 0 || K == 0 || K > kQgemmMaxK_u8s8 || !packed_exact()) return nullptr;
  apply_thread_request();
  auto impl = pack_impl(N, K, B);
  // oneDNN pads N and K to its blocks; a small layer (e.g. 10 outputs padded to 64) would grow by
  // several times for little speed, so it keeps its plain weight.
  const auto plain = static_cast<size_t>(N * K);
  if (!impl || impl->packed_desc.get_size() > plain + plain / 8) return nullptr;
  return std::unique_ptr<PackedWeightS8>(new PackedWeightS8(std::move(impl)));
}

void PackedWeightS8::multiply_u8(int64_t M, const uint8_t* A, int32_t* C) const {
  const int64_t N = impl_->N, K = impl_->K;
  TINYML_CHECK(M >= 0 && (A != nullptr || M == 0) && (C != nullptr || M == 0),
               "PackedWeightS8::multiply_u8: bad operands M={} N={} K={}", M, N, K);
  if (M == 0) return;
  apply_thread_request();
  PackedKernel kernel;
  try {
    kernel = kernel_for(*impl_, M);
  } catch (const dnnl::error&) {
    // No kernel of oneDNN reads this layout for M rows: multiply with the weight unpacked.
    std::vector<int8_t> B(static_cast<size_t>(N * K));
    unpack(B.data());
    qgemm_u8s8(M, N, K, A, K, B.data(), K, /*trans_b=*/true, C, N);
    return;
  }
  execute(kernel, impl_->packed, M, N, K, A, C);
}

void PackedWeightS8::unpack(int8_t* B) const {
  TINYML_CHECK(B != nullptr, "PackedWeightS8::unpack: null destination for {}x{}", impl_->N, impl_->K);
  dnnl::memory plain(plain_b_desc(impl_->N, impl_->K), cpu_engine(), B);
  reorder(impl_->packed, plain);
}

int64_t PackedWeightS8::rows() const { return impl_->N; }
int64_t PackedWeightS8::cols() const { return impl_->K; }
size_t PackedWeightS8::bytes() const { return impl_->packed_desc.get_size(); }

std::string qgemm_packed_info(int64_t M, int64_t N, int64_t K) {
  if (M <= 0 || N <= 0 || K <= 0 || !packed_exact()) return {};
  try {
    return matmul_desc(M, N, K, dnnl::memory::desc({K, N}, dt::s8, tag::any)).impl_info_str();
  } catch (const dnnl::error&) {
    return {};
  }
}

}  // namespace tinyml::kernels

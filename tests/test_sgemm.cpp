// sgemm: the BLAS path (gemm and the M = 1 gemv path, all transposes) against the reference loop.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <thread>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/kernels/sgemm.hpp"

using namespace tinyml;

TEST(Sgemm, MatchesReferenceForAllTransposesAndShapes) {
  Generator g(11);
  for (auto [M, N, K] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 7, 5}, {3, 1, 4}, {17, 9, 33}, {1, 64, 128}, {5, 5, 0}}) {
    for (auto backend : {kernels::SgemmBackend::OpenBLAS, kernels::SgemmBackend::OneDNN})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        std::vector<float> A(static_cast<size_t>(M * K + 1)), B(static_cast<size_t>(K * N + 1)), C(static_cast<size_t>(M * N)), R;
        for (auto& v : A) v = g.normal();
        for (auto& v : B) v = g.normal();
        for (auto& v : C) v = g.normal();
        R = C;
        const int64_t lda = ta ? M : K, ldb = tb ? K : N;
        kernels::sgemm_using(backend, ta, tb, M, N, K, 0.5f, A.data(), std::max<int64_t>(lda, 1), B.data(), std::max<int64_t>(ldb, 1), 0.25f, C.data(), N);
        kernels::sgemm_reference(ta, tb, M, N, K, 0.5f, A.data(), std::max<int64_t>(lda, 1), B.data(), std::max<int64_t>(ldb, 1), 0.25f, R.data(), N);
        // Float32 accumulation over K terms of N(0,1) products: error ≲ K·eps·|a||b| ≈ 33·1.2e-7·(few) ≪ 1e-4.
        for (size_t i = 0; i < C.size(); ++i) EXPECT_NEAR(C[i], R[i], 1e-4) << M << "x" << N << "x" << K << " ta=" << ta << " tb=" << tb << " " << kernels::to_string(backend);
      }
  }
}

TEST(Sgemm, RejectsNegativeDims) {
  float x = 0;
  EXPECT_THROW(kernels::sgemm(false, false, -1, 1, 1, 1.0f, &x, 1, &x, 1, 0.0f, &x, 1), Error);
}

TEST(Sgemm, ReportsItsBackend) {
  EXPECT_NE(kernels::blas_info().find(kernels::to_string(kernels::sgemm_backend())), std::string::npos);
  // The automatic choice never leaves a narrow OpenBLAS in charge silently.
  if (kernels::narrow_openblas() && kernels::sgemm_backend() == kernels::SgemmBackend::OpenBLAS) {
    EXPECT_FALSE(kernels::blas_warning().empty());
  }
  kernels::set_num_threads(1);
  EXPECT_EQ(kernels::num_threads(), 1);
}

// OpenMP keeps its thread count per thread, so a count set on the main thread does not reach a
// thread started later by itself; set_num_threads must (docs/threads.md).
TEST(Kernels, ThreadRequestReachesNewThreads) {
  const int before = tinyml::kernels::num_threads();
  tinyml::kernels::set_num_threads(3);
  int seen = 0;
  std::thread worker([&] {
    omp_set_num_threads(5);  // as if OMP_NUM_THREADS said otherwise for this thread
    std::vector<float> a(4 * 3, 1.0f), b(3 * 2, 1.0f), c(4 * 2, 0.0f);
    tinyml::kernels::sgemm_using(tinyml::kernels::SgemmBackend::OneDNN, false, false, 4, 2, 3, 1.0f, a.data(), 3,
                                 b.data(), 2, 0.0f, c.data(), 2);
    seen = omp_get_max_threads();
    EXPECT_EQ(c[0], 3.0f);
  });
  worker.join();
  EXPECT_EQ(seen, 3);
  tinyml::kernels::set_num_threads(before);
}

// sgemm: the BLAS path (gemm and the M = 1 gemv path, all transposes) against the reference loop.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "tinyml/core/error.hpp"
#include "tinyml/core/random.hpp"
#include "tinyml/kernels/omp_threads.hpp"
#include "tinyml/kernels/sgemm.hpp"

using namespace tinyml;

TEST(Sgemm, MatchesReferenceForAllTransposesAndShapes) {
  Generator g(11);
  for (auto [M, N, K] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {1, 7, 5}, {3, 1, 4}, {17, 9, 33}, {1, 64, 128}, {5, 5, 0}}) {
    for (auto backend : {kernels::SgemmBackend::OpenBLAS, kernels::SgemmBackend::OneDNN})
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          std::vector<float> A(static_cast<size_t>(M * K + 1)), B(static_cast<size_t>(K * N + 1)),
              C(static_cast<size_t>(M * N)), R;
          for (auto& v : A) v = g.normal();
          for (auto& v : B) v = g.normal();
          for (auto& v : C) v = g.normal();
          R = C;
          const int64_t lda = ta ? M : K, ldb = tb ? K : N;
          kernels::sgemm_using(backend, ta, tb, M, N, K, 0.5f, A.data(), std::max<int64_t>(lda, 1), B.data(),
                               std::max<int64_t>(ldb, 1), 0.25f, C.data(), N);
          kernels::sgemm_reference(ta, tb, M, N, K, 0.5f, A.data(), std::max<int64_t>(lda, 1), B.data(),
                                   std::max<int64_t>(ldb, 1), 0.25f, R.data(), N);
          // Float32 accumulation over K terms of N(0,1) products: error ≲ K·eps·|a||b| ≈ 33·1.2e-7·(few) ≪
          // 1e-4.
          for (size_t i = 0; i < C.size(); ++i)
            EXPECT_NEAR(C[i], R[i], 1e-4) << M << "x" << N << "x" << K << " ta=" << ta << " tb=" << tb << " "
                                          << kernels::to_string(backend);
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
  tinyml::kernels::set_num_threads(2);
  const int expected = tinyml::kernels::num_threads();  // 2, or 1 on a one-core machine
  int seen = 0;
  std::thread worker([&] {
    omp_set_num_threads(5);  // as if OMP_NUM_THREADS said otherwise for this thread
    std::vector<float> a(4 * 3, 1.0f), b(3 * 2, 1.0f), c(4 * 2, 0.0f);
    tinyml::kernels::sgemm_using(tinyml::kernels::SgemmBackend::OneDNN, false, false, 4, 2, 3, 1.0f, a.data(),
                                 3, b.data(), 2, 0.0f, c.data(), 2);
    seen = omp_get_max_threads();
    EXPECT_EQ(c[0], 3.0f);
  });
  worker.join();
  EXPECT_EQ(seen, expected);
  tinyml::kernels::set_num_threads(before);
}

// Found by the mutation campaign (docs/hardening.md): `--threads 64` died with SIGSEGV in dnnl_sgemm
// under a 4 GiB address-space limit, and 32 made libgomp fail to start threads and then hang at exit.
// The count is now at most the hardware threads, and absurd counts are refused with the limit named.
TEST(Kernels, ThreadCountIsBoundedByTheHardware) {
  namespace k = tinyml::kernels;
  const int before = k::num_threads();
  k::set_num_threads(64);
  EXPECT_EQ(k::num_threads(), std::min(64, k::hardware_threads()));
  EXPECT_EQ(k::resolve_thread_count(0), k::hardware_threads());
  EXPECT_EQ(k::resolve_thread_count(1), 1);
  EXPECT_THAT([] { tinyml::kernels::set_num_threads(10000); },
              ::testing::ThrowsMessage<tinyml::Error>(::testing::HasSubstr("above the limit of 1024")));
  EXPECT_EQ(k::num_threads(), std::min(64, k::hardware_threads()));  // unchanged by the refusal
  k::set_num_threads(before);
}

// A thread that cannot start is an error from set_num_threads, which keeps the old count. In a child
// process, new threads get a 1 GiB stack by default (pthread_setattr_default_np; freed stacks that
// glibc caches are too small to serve) and the address space is limited to 256 MiB above what is in
// use, so no thread can start.
TEST(Kernels, FailedThreadStartIsAnError) {
  if (tinyml::kernels::hardware_threads() < 2)
    GTEST_SKIP() << "this machine has one hardware thread: set_num_threads(2) keeps to 1 "
                    "and starts no thread whose failure could be checked";
  const pid_t child = ::fork();
  if (child == 0) {
    ::alarm(20);  // a hang (the defect) ends as a signal, which the parent reports
    pthread_attr_t attr;
    if (::pthread_attr_init(&attr) != 0 || ::pthread_attr_setstacksize(&attr, size_t{1} << 30) != 0 ||
        ::pthread_setattr_default_np(&attr) != 0)
      ::_exit(3);
    long pages = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(f, "%ld", &pages) != 1) pages = 0;
      std::fclose(f);
    }
    const rlim_t limit =
        static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + (rlim_t{256} << 20);
    const rlimit rl{limit, limit};
    if (pages == 0 || ::setrlimit(RLIMIT_AS, &rl) != 0) ::_exit(3);
    try {
      tinyml::kernels::set_num_threads(2);
    } catch (const tinyml::Error& e) {
      ::_exit(std::strstr(e.what(), "cannot start 2 threads") != nullptr ? 0 : 2);
    } catch (...) {
      ::_exit(4);
    }
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "1: no error, 2: another message, 3: no limit set, 4: another exception";
}

// sgemm: the float32 matrix multiply (OpenBLAS or oneDNN), with a gemv path for a single row.
#pragma once

#include <cstdint>
#include <string>

namespace tinyml::kernels {

// Row-major C(M×N) = alpha · op(A)(M×K) · op(B)(K×N) + beta · C.
// op(A) = Aᵀ when trans_a (then A is stored K×M with leading dimension lda), likewise B.
// Runs on sgemm_backend(), except tiny products (M·N·K ≤ 32³), which always take OpenBLAS.
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

enum class SgemmBackend;
// sgemm on a given backend (the tests check both against the reference).
void sgemm_using(SgemmBackend backend, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                 float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc);

// The plain triple loop: the specification that the BLAS path is tested against.
void sgemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                     int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// Which library runs sgemm. Chosen once per process from TINYML_SGEMM=openblas|onednn|auto
// (default auto: OpenBLAS, unless OpenBLAS runs narrower kernels than the CPU supports — e.g.
// OPENBLAS_CORETYPE=Haswell on an AVX-512 machine — where oneDNN's sgemm is about 2x faster).
enum class SgemmBackend { OpenBLAS, OneDNN };
SgemmBackend sgemm_backend();
const char* to_string(SgemmBackend b);
// True when OpenBLAS runs AVX2-era kernels on a CPU with AVX-512.
bool narrow_openblas();

// More kernel threads than this is refused (more than the hardware threads is never used anyway).
inline constexpr int kMaxThreads = 1024;
// std::thread::hardware_concurrency(), at least 1.
int hardware_threads();
// The count set_num_threads(n) uses: n <= 0 means all hardware threads; n is at most the
// hardware threads (more would only contend, and cost memory per thread); above kMaxThreads it
// throws tinyml::Error naming the limit.
int resolve_thread_count(int n);
// Threads used by the kernels (OpenBLAS and oneDNN), resolved as above. Applies to every thread of
// the process, including threads started later. The threads are started once first: if they
// cannot be (a memory or process limit), it throws tinyml::Error and keeps the previous count.
void set_num_threads(int n);
// Makes the calling thread's OpenMP count what set_num_threads asked for (nothing if it was never
// called). The kernels call it before entering oneDNN; OpenMP keeps the count per thread.
void apply_thread_request();
int num_threads();

// "sgemm: oneDNN (OpenBLAS core Haswell, 2 threads; ...)" — printed by `tinyml bench` and the demo.
std::string blas_info();
// A warning when sgemm is forced to narrow OpenBLAS kernels on an AVX-512 CPU (about half
// speed); empty when all is well.
std::string blas_warning();

}  // namespace tinyml::kernels

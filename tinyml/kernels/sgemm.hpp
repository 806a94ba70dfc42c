// sgemm: the float32 matrix multiply (OpenBLAS), with a gemv path for a single row.
#pragma once

#include <cstdint>
#include <string>

namespace tinyml::kernels {

// Row-major C(M×N) = alpha · op(A)(M×K) · op(B)(K×N) + beta · C.
// op(A) = Aᵀ when trans_a (then A is stored K×M with leading dimension lda), likewise B.
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
           int64_t ldc);

// The plain triple loop: the specification that the BLAS path is tested against.
void sgemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                     const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                     float* C, int64_t ldc);

// Threads used by the kernels (OpenBLAS and oneDNN). n <= 0 means "all cores".
void set_num_threads(int n);
int num_threads();

// "OpenBLAS 0.3.21, core Haswell, 2 threads" — printed by `tinyml bench` and the demo.
std::string blas_info();
// A warning when OpenBLAS runs narrower kernels than the CPU supports (OPENBLAS_CORETYPE set to
// an AVX2 core on an AVX-512 CPU, which halves sgemm speed); empty when all is well.
std::string blas_warning();

}  // namespace tinyml::kernels

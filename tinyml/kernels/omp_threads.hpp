// omp_threads: the two OpenMP runtime calls tinyml makes, without any compiler's omp.h.
#pragma once

// tinyml links GCC's libgomp, the OpenMP runtime Debian's oneDNN runs on, whichever compiler
// builds it (cmake/TinymlDependencies.cmake); clang's omp.h would need a package for two plain C
// functions of the OpenMP API. Do not include <omp.h> in the same file: its declarations carry an
// exception specification these do not.
extern "C" {
// The number of threads the next parallel region of the calling thread would use.
int omp_get_max_threads();
// Sets that number for the calling thread (n >= 1).
void omp_set_num_threads(int n);
}

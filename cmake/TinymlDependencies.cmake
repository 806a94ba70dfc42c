# Finds the Debian-packaged dependencies (the PACKAGES of scripts/setup.sh, which installs them).
find_package(Threads REQUIRED)
# OpenMP: kernels::set_num_threads sets the thread count of the runtime Debian's oneDNN runs on,
# GCC's libgomp, and tinyml links that runtime whichever compiler builds it (clang's -fopenmp would
# bring LLVM's libomp as a second runtime, which aborts on an empty OMP_NUM_THREADS). The two
# runtime calls are declared in tinyml/kernels/omp_threads.hpp, so no compiler's omp.h is needed;
# the library's `#pragma omp simd` loops need no runtime (-fopenmp-simd, tinyml/CMakeLists.txt).
if(NOT TARGET tinyml_openmp)
  add_library(tinyml_openmp INTERFACE IMPORTED)
  set_target_properties(tinyml_openmp PROPERTIES INTERFACE_LINK_LIBRARIES gomp)
endif()
find_package(fmt REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(dnnl REQUIRED)
# ONNX export/import (tinyml/io/onnx_*): Debian's libonnx-dev, whose ONNX::onnx target brings the
# generated protobuf classes (onnx-ml.pb.h, with ONNX_ML=1 and ONNX_NAMESPACE=onnx) and the checker;
# it names protobuf::libprotobuf, so Protobuf comes first.
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)
find_package(OpenBLAS CONFIG QUIET)
if(OpenBLAS_FOUND AND NOT TARGET tinyml_openblas)
  add_library(tinyml_openblas INTERFACE IMPORTED)
  set_target_properties(tinyml_openblas PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${OpenBLAS_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${OpenBLAS_LIBRARIES}")
elseif(NOT TARGET tinyml_openblas)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
  add_library(tinyml_openblas INTERFACE IMPORTED)
  target_link_libraries(tinyml_openblas INTERFACE PkgConfig::OPENBLAS)
endif()

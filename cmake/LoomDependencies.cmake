# Finds the Debian packages loom builds against (scripts/install-deps.sh installs them) and
# exposes each as an imported target. Optional components set LOOM_HAVE_<X>.
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PkgConfig REQUIRED)

if(LOOM_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(LOOM_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# OpenBLAS for GEMM (tensor module).
find_package(BLAS)
set(LOOM_HAVE_OPENBLAS OFF)
find_path(LOOM_CBLAS_INCLUDE cblas.h PATHS /usr/include/x86_64-linux-gnu/openblas-pthread
          /usr/include/openblas)
find_library(LOOM_OPENBLAS_LIB NAMES openblas)
if(LOOM_CBLAS_INCLUDE AND LOOM_OPENBLAS_LIB)
  add_library(loom_ext_openblas INTERFACE)
  target_include_directories(loom_ext_openblas INTERFACE ${LOOM_CBLAS_INCLUDE})
  target_link_libraries(loom_ext_openblas INTERFACE ${LOOM_OPENBLAS_LIB})
  add_library(Loom::OpenBLAS ALIAS loom_ext_openblas)
  set(LOOM_HAVE_OPENBLAS ON)
endif()

# MPI (comm_mpi backend).
set(LOOM_HAVE_MPI OFF)
if(LOOM_WITH_MPI)
  find_package(MPI COMPONENTS C)
  if(MPI_C_FOUND)
    set(LOOM_HAVE_MPI ON)
  else()
    message(STATUS "loom: MPI not found, comm_mpi disabled")
  endif()
endif()

# CBC (taccl MILP) via pkg-config.
pkg_check_modules(LOOM_CBC IMPORTED_TARGET cbc)
set(LOOM_HAVE_CBC ${LOOM_CBC_FOUND})

# Z3 (tessel --verify).
find_library(LOOM_Z3_LIB NAMES z3)
find_path(LOOM_Z3_INCLUDE z3++.h)
set(LOOM_HAVE_Z3 OFF)
if(LOOM_Z3_LIB AND LOOM_Z3_INCLUDE)
  add_library(loom_ext_z3 INTERFACE)
  target_include_directories(loom_ext_z3 INTERFACE ${LOOM_Z3_INCLUDE})
  target_link_libraries(loom_ext_z3 INTERFACE ${LOOM_Z3_LIB})
  add_library(Loom::Z3 ALIAS loom_ext_z3)
  set(LOOM_HAVE_Z3 ON)
endif()

# SentencePiece (phi: Phi-3's tokenizer.model).
pkg_check_modules(LOOM_SENTENCEPIECE IMPORTED_TARGET sentencepiece)
set(LOOM_HAVE_SENTENCEPIECE ${LOOM_SENTENCEPIECE_FOUND})

# libsodium (ckks CSPRNG expansion).
pkg_check_modules(LOOM_SODIUM IMPORTED_TARGET libsodium)
set(LOOM_HAVE_SODIUM ${LOOM_SODIUM_FOUND})

# CUDA + NCCL: compiled where the toolkit exists; run only where a GPU is present.
set(LOOM_HAVE_CUDA OFF)
if(LOOM_WITH_CUDA)
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    find_package(CUDAToolkit)
    find_library(LOOM_NCCL_LIB NAMES nccl HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/lib/x86_64-linux-gnu)
    if(CUDAToolkit_FOUND)
      set(LOOM_HAVE_CUDA ON)
    endif()
  endif()
endif()

message(STATUS "loom: openblas=${LOOM_HAVE_OPENBLAS} mpi=${LOOM_HAVE_MPI} cbc=${LOOM_HAVE_CBC} "
               "z3=${LOOM_HAVE_Z3} sodium=${LOOM_HAVE_SODIUM} cuda=${LOOM_HAVE_CUDA}")

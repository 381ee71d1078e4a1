# loom_library / loom_test / loom_bench / loom_fuzz: one helper per target kind.
#
# The DEPS list of each target is the layering contract: it names the loom modules (short
# names, e.g. `base`, `comm`) the target may include and link. scripts/check-layering.sh
# reads these calls and fails when a source file includes a loom module that is not declared
# here, or another module's internal/ headers. EXTERNAL names third-party targets.
#
#   loom_library(base SRCS a.cc b.cc DEPS ... EXTERNAL Threads::Threads)
#     -> target loom_base, alias loom::base
#   loom_test(base_test SRCS a_test.cc DEPS base LABELS unit [TIMEOUT 300] [MPI_RANKS 4])
#   loom_bench(base_bench SRCS a_bench.cc DEPS base)
#   loom_fuzz(json_fuzz SRCS json_fuzz.cc DEPS base)

cmake_path(GET CMAKE_CURRENT_LIST_DIR PARENT_PATH LOOM_SOURCE_ROOT)

function(loom_apply_common_options target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>)
    if(LOOM_WERROR)
      target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
    endif()
    if(LOOM_NATIVE)
      target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
    endif()
  endif()
  if(LOOM_SANITIZE)
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${LOOM_SANITIZE} -fno-omit-frame-pointer
      -fno-sanitize-recover=all>)
    target_link_options(${target} PRIVATE -fsanitize=${LOOM_SANITIZE})
  endif()
endfunction()

function(loom_resolve_deps out)
  set(result)
  foreach(dep IN LISTS ARGN)
    list(APPEND result loom_${dep})
  endforeach()
  set(${out} ${result} PARENT_SCOPE)
endfunction()

function(loom_library name)
  cmake_parse_arguments(ARG "HEADER_ONLY" "" "SRCS;DEPS;EXTERNAL;PRIVATE_EXTERNAL" ${ARGN})
  loom_resolve_deps(deps ${ARG_DEPS})
  if(ARG_HEADER_ONLY OR NOT ARG_SRCS)
    add_library(loom_${name} INTERFACE)
    target_include_directories(loom_${name} INTERFACE ${LOOM_SOURCE_ROOT}/src)
    target_link_libraries(loom_${name} INTERFACE ${deps} ${ARG_EXTERNAL})
  else()
    add_library(loom_${name} STATIC ${ARG_SRCS})
    target_include_directories(loom_${name} PUBLIC ${LOOM_SOURCE_ROOT}/src)
    target_link_libraries(loom_${name} PUBLIC ${deps} ${ARG_EXTERNAL}
                          PRIVATE ${ARG_PRIVATE_EXTERNAL})
    loom_apply_common_options(loom_${name})
  endif()
  add_library(loom::${name} ALIAS loom_${name})
endfunction()

# Tests: each binary is one ctest entry per GoogleTest case (discovered when ctest runs).
# LABELS: unit (default), mpi, slow, gpu. MPI_RANKS n runs the binary under mpirun -np n as
# one ctest entry instead.
function(loom_test name)
  if(NOT LOOM_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "TIMEOUT;MPI_RANKS" "SRCS;DEPS;EXTERNAL;LABELS" ${ARGN})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  loom_resolve_deps(deps ${ARG_DEPS})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${deps} ${ARG_EXTERNAL} GTest::gtest GTest::gtest_main
                        GTest::gmock)
  loom_apply_common_options(${name})
  if(ARG_MPI_RANKS)
    add_test(NAME ${name}
             COMMAND ${MPIEXEC_EXECUTABLE} --oversubscribe --allow-run-as-root
                     -np ${ARG_MPI_RANKS} $<TARGET_FILE:${name}>)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
                         ENVIRONMENT "OMPI_MCA_rmaps_base_oversubscribe=1")
  else()
    include(GoogleTest)
    gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST TEST_PREFIX "${name}."
                         PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
  endif()
endfunction()

function(loom_bench name)
  if(NOT LOOM_BUILD_BENCH)
    return()
  endif()
  cmake_parse_arguments(ARG "NO_MAIN" "" "SRCS;DEPS;EXTERNAL" ${ARGN})
  loom_resolve_deps(deps ${ARG_DEPS})
  add_executable(${name} ${ARG_SRCS})
  if(ARG_NO_MAIN)
    target_link_libraries(${name} PRIVATE ${deps} ${ARG_EXTERNAL})
  else()
    target_link_libraries(${name} PRIVATE ${deps} ${ARG_EXTERNAL} benchmark::benchmark
                          benchmark::benchmark_main)
  endif()
  loom_apply_common_options(${name})
  set_property(GLOBAL APPEND PROPERTY LOOM_BENCH_TARGETS ${name})
endfunction()

# Fuzz targets (a file defining LLVMFuzzerTestOneInput). With LOOM_BUILD_FUZZ=ON (preset
# `fuzz`, clang) they link libFuzzer; in every other build they link a replay driver and run
# as a `unit` test over the seed CORPUS plus deterministic mutations, so CI exercises them
# (under ASan in the asan preset).
function(loom_fuzz name)
  cmake_parse_arguments(ARG "" "CORPUS;ITERATIONS" "SRCS;DEPS;EXTERNAL" ${ARGN})
  loom_resolve_deps(deps ${ARG_DEPS})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${deps} ${ARG_EXTERNAL})
  loom_apply_common_options(${name})
  if(LOOM_BUILD_FUZZ)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  else()
    target_sources(${name} PRIVATE ${LOOM_SOURCE_ROOT}/src/loom/testing/fuzz_replay_main.cc)
    target_link_libraries(${name} PRIVATE loom_base)
    if(LOOM_BUILD_TESTS)
      if(NOT ARG_ITERATIONS)
        set(ARG_ITERATIONS 5000)
      endif()
      add_test(NAME ${name}_replay COMMAND ${name} "${ARG_CORPUS}" ${ARG_ITERATIONS})
      set_tests_properties(${name}_replay PROPERTIES LABELS unit TIMEOUT 300)
    endif()
  endif()
endfunction()

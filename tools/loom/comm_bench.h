// `loom comm bench`: collectives timed like nccl-tests (algbw, busbw), on thread ranks or, under
// mpirun with --backend mpi, side by side with OpenMPI's own MPI_Allreduce/Allgather/Alltoall
// in the same run; `--collective adasum` compares Adasum with a plain sum on the same VHDD
// schedule. Every point is verified before it is timed.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "cli.h"

namespace loom::cli {

// nccl-tests' bus-bandwidth factor: allreduce 2(n-1)/n; allgather, reducescatter, alltoall
// (n-1)/n; others 1.
double BusFactor(const std::string& collective, int ranks);

void RegisterCommBench(CLI::App& group, Context& ctx);

}  // namespace loom::cli

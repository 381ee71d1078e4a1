// `loom comm bench`: collectives timed like nccl-tests (algbw, busbw), on thread ranks or, under
// mpirun with --backend mpi, side by side with OpenMPI's own MPI_Allreduce/Allgather/Alltoall
// in the same run; `--collective adasum` compares Adasum with a plain sum on the same VHDD
// schedule. Every point is verified before it is timed.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "cli.h"
#include "loom/comm/communicator.h"

namespace loom::cli {

// nccl-tests' bus-bandwidth factor: allreduce 2(n-1)/n; allgather, reducescatter, alltoall
// (n-1)/n; others 1.
double BusFactor(const std::string& collective, int ranks);

void RegisterCommBench(CLI::App& group, Context& ctx);

// The middle element (upper median) of `v`; 0 when empty.
double Median(std::vector<double> v);

// `loom comm tune` (comm_tune.cc).
void RegisterCommTune(CLI::App& group, Context& ctx);
// `loom comm model` (comm_model.cc).
void RegisterCommModel(CLI::App& group, Context& ctx);

// Runs `body(comm, native)` on every rank of `backend`: "thread" (`ranks` threads, native
// null) or "mpi" (the mpirun world; native points at an MPI_Comm duplicate of
// MPI_COMM_WORLD). The table named by LOOM_COMM_TUNING, if set, is loaded on every rank.
Status RunOnBackend(const std::string& backend, int ranks,
                    const std::function<Status(comm::Communicator&, void*)>& body);

}  // namespace loom::cli

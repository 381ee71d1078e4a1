// comm_mpi: the Transport over MPI point-to-point (OpenMPI from Debian), for processes started
// by mpirun/srun, on one host or many.
//
// Each transport owns an MPI_Comm_dup of its parent with MPI_ERRORS_RETURN, so MPI errors come
// back as Status (wrapped by LOOM_MPI_CHECK) instead of aborting the job. Messages larger than
// 1 GiB are sent as several MPI messages (MPI counts are int). Wait polls MPI_Test until the
// transport's timeout and then reports Unavailable (timeout <= 0: blocks in MPI_Wait, which
// costs no CPU while waiting; benchmarks use that).
//
// Thread-safety: MPI is initialised with MPI_THREAD_FUNNELED; use transports from the thread
// that called InitMpi.
#pragma once

// The C API only: OpenMPI's deprecated C++ bindings need a library loom does not link.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <memory>

#include "loom/base/status.h"
#include "loom/comm/transport.h"

namespace loom::comm::mpi {

// MPI_Init_thread (idempotent; also fine when MPI is already initialised by the caller).
Status InitMpi(int* argc = nullptr, char*** argv = nullptr);
// MPI_Finalize if InitMpi initialised MPI.
void FinalizeMpi();

// A transport over a duplicate of MPI_COMM_WORLD.
StatusOr<std::unique_ptr<Transport>> WorldTransport();

// This process's host as a node colour (collective over MPI_COMM_WORLD): the smallest world
// rank among the processes that share its memory (MPI_Comm_split_type, MPI_COMM_TYPE_SHARED),
// so every rank of one host gets the same colour whatever mpirun's placement. What the
// hierarchical Adasum (adasum/hierarchical.h) takes as `node`.
StatusOr<int> HostColour();

// The MPI communicator behind a transport made here (for native baselines in benchmarks);
// MPI_COMM_NULL for any other transport.
MPI_Comm NativeComm(const Transport& transport);

}  // namespace loom::comm::mpi

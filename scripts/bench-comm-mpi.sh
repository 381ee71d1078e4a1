#!/usr/bin/env bash
# Benchmarks M1 and G8 of issue 3 (docs/benchmarks.md): loom's collectives over the MPI backend
# side by side with OpenMPI's own MPI_Allreduce / MPI_Allgather / MPI_Alltoall in the same
# mpirun, and Adasum vs a plain sum on the same VHDD schedule. One JSON line per point.
# Usage: scripts/bench-comm-mpi.sh LOOM_BINARY [RANKS...]   (default ranks: 2 4 8)
# Environment: MAX (largest size, default 256MiB), FACTOR (size step, 4), ITERS (20),
# NO_SINGLE_COPY (1: OpenMPI without CMA single-copy, for containers that refuse it),
# REGISTERED (1: allreduce/allgather/alltoall with every buffer, OpenMPI's too, in loom's
# registered memory, `--registered`; no Adasum runs), LOOP (N: sizes under 1 MiB timed as N
# back-to-back calls per repetition, `--loop N`; default: one call after a barrier).
set -euo pipefail
loom=${1:?usage: $0 LOOM_BINARY [RANKS...]}
shift
ranks=${*:-2 4 8}
# OpenMPI runs with its defaults, single-copy (CMA) transfers included, as users run it. Only
# where a container refuses CMA (OpenMPI then warns and fails large messages) set
# NO_SINGLE_COPY=1; the sweeps before 2026-11-28 06:00 UTC all ran that way, which costs
# OpenMPI a copy on large messages (docs/benchmarks.md).
if [[ ${NO_SINGLE_COPY:-0} == 1 ]]; then export OMPI_MCA_btl_vader_single_copy_mechanism=none; fi
run() { mpirun --oversubscribe --allow-run-as-root -np "$1" "$loom" comm bench --backend mpi "${@:2}" --json; }
extra=()
if [[ ${REGISTERED:-0} == 1 ]]; then extra=(--registered); fi
if [[ -n ${LOOP:-} ]]; then extra+=(--loop "$LOOP"); fi
for np in $ranks; do
  for c in allreduce allgather alltoall; do
    run "$np" --collective "$c" --min-bytes 4B --max-bytes "${MAX:-256MiB}" --factor "${FACTOR:-4}" \
        --iters "${ITERS:-20}" "${extra[@]}"
  done
done
if [[ ${REGISTERED:-0} == 1 ]]; then exit 0; fi
# G8: Adasum / sum on the same schedule, p = 8 (or the largest rank count given).
np=$(echo "$ranks" | tr ' ' '\n' | sort -n | tail -1)
run "$np" --collective adasum --min-bytes 1MiB --max-bytes "${MAX:-256MiB}" --factor 4 --iters 10
run "$np" --collective adasum --min-bytes 4MiB --max-bytes 4MiB --tensors 1000 --iters 10

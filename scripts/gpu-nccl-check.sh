#!/bin/bash
set -u
# Device check for comm_nccl, run on a lent GPU machine: copy build/release/src/loom/comm/nccl/comm_nccl_test
# into .gpu/ (git-ignored via .git/info/exclude), carry .gpu, and run this script from the repo root.
# It runs the gpu-labelled test against the device's own NCCL and CUDA runtime.
nvidia-smi -L
N=$(find /opt /usr -name 'libnccl.so.2' 2>/dev/null | head -1)
C=$(find /usr/local/cuda* /opt -name 'libcudart.so.13' 2>/dev/null | head -1)
echo "nccl: $N  cudart: $C"
export LD_LIBRARY_PATH=$(dirname "$N"):$(dirname "${C:-.gpu/x}"):$PWD/.gpu
ldd .gpu/comm_nccl_test | grep -E 'nccl|cudart'
strings "$N" | grep -m1 -E '^NCCL version' || true
NCCL_DEBUG=WARN timeout 240 .gpu/comm_nccl_test 2>&1 | tail -60 | tee ${OUT:-/tmp}/nccl_test.txt
rc=${PIPESTATUS[0]}
echo "rc=$rc"
exit "$rc"

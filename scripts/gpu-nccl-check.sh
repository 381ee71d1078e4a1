#!/bin/bash
set -u
# Device check for comm_nccl, run on a lent GPU machine. Here, first:
#   mkdir -p .gpu && cp build/release/src/loom/comm/nccl/{comm_nccl_test,comm_nccl_unit_test,nccl_bench} .gpu/
# (.gpu/ git-ignored via .git/info/exclude), then carry .gpu and run this script from the repo
# root there. It runs the gpu-labelled test and nccl_bench (loom's NCCL calls against NCCL called
# directly) against the device's own NCCL and CUDA runtime; results land in $OUT. Arguments go to
# nccl_bench. Optional: the CLI (`loom comm bench --backend nccl`), with the Debian libraries the
# device lacks bundled here:
#   strip -o .gpu/loom build/release/tools/loom/loom
#   mkdir -p /tmp/libbundle && for l in $(ldd .gpu/loom | awk '{print $3}' |
#     grep -v 'cuda\|libc.so\|libm.so\|libstdc\|libgcc_s\|libdl\|libpthread\|librt\|libmvec'); do
#     cp -L $l /tmp/libbundle/; done && tar cJf .gpu/libbundle.tar.xz -C /tmp libbundle
out=${OUT:-/tmp}
nvidia-smi -L
N=$(find /opt /usr -name 'libnccl.so.2' 2>/dev/null | head -1)
C=$(find /usr/local/cuda* /opt -name 'libcudart.so.13' 2>/dev/null | head -1)
echo "nccl: $N  cudart: $C"
export LD_LIBRARY_PATH=$(dirname "$N"):$(dirname "${C:-.gpu/x}"):$PWD/.gpu
ldd .gpu/comm_nccl_test | grep -E 'nccl|cudart'
strings "$N" | grep -m1 -E '^NCCL version' || true
rc=0
for t in comm_nccl_test comm_nccl_unit_test; do
  [ -x .gpu/$t ] || continue
  NCCL_DEBUG=WARN timeout 240 .gpu/$t 2>&1 | tail -60 | tee "$out/$t.txt"
  trc=${PIPESTATUS[0]}
  echo "$t rc=$trc"
  [ "$trc" = 0 ] || rc=$trc
done
if [ -x .gpu/nccl_bench ]; then
  for round in 1 2; do
    timeout 240 .gpu/nccl_bench --json "$out/nccl_bench_$round.json" "$@" 2>&1 | tee "$out/nccl_bench_$round.txt"
    brc=${PIPESTATUS[0]}
    echo "bench $round rc=$brc"
    [ "$brc" = 0 ] || rc=$brc
  done
fi
if [ -x .gpu/loom ]; then
  if [ -f .gpu/libbundle.tar.xz ]; then
    tar xJf .gpu/libbundle.tar.xz -C /tmp && export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:/tmp/libbundle
  fi
  for c in allreduce allgather reducescatter alltoall broadcast; do
    timeout 120 .gpu/loom --json comm bench --backend nccl --collective $c --min-bytes 8B \
      --max-bytes 16MiB --factor 8 >>"$out/loom_cli.jsonl"
    crc=$?
    echo "loom comm bench --backend nccl --collective $c rc=$crc"
    [ "$crc" = 0 ] || rc=$crc
  done
  .gpu/loom comm bench --backend nccl --collective allreduce --min-bytes 1KiB --max-bytes 1MiB --factor 32
  .gpu/loom comm bench --backend nccl --collective adasum; echo "adasum refused: rc=$?"
fi
exit "$rc"

#!/usr/bin/env bash
# Installs the Debian 12 packages loom needs to build, test and run, and only those that are
# missing. Idempotent: a second run installs nothing and prints so. Works as root or via sudo.
# Set LOOM_SKIP_DEPS=1 to skip (for machines managed by other means).
set -euo pipefail

if [[ "${LOOM_SKIP_DEPS:-0}" == "1" ]]; then
  echo "install-deps: LOOM_SKIP_DEPS=1, skipping"
  exit 0
fi

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git clang libclang-rt-14-dev
  # test and benchmark frameworks
  libgtest-dev libgmock-dev libbenchmark-dev
  # base and CLI
  nlohmann-json3-dev libcli11-dev
  # distributed engine and dense kernels
  libopenmpi-dev openmpi-bin libopenblas-dev
  # solvers (taccl MILP, tessel --verify)
  coinor-libcbc-dev libz3-dev
  # cryptographic randomness (ckks keys and noise)
  libsodium-dev
  # real English text for the w2v demo stage (perl's pod documentation, ~8 MB)
  perl-doc
  # phi: SentencePiece tokenizer.model (Phi-3)
  libsentencepiece-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "install-deps: not root and no sudo; install these packages: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# An apt cache older than a day (or absent) is refreshed before installing.
if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]]; then
  "${sudo_cmd[@]}" apt-get update -qq
fi
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"

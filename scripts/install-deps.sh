#!/usr/bin/env bash
# Installs every Debian package sctrace needs to build, test and benchmark.
# Idempotent; needs root (or sudo).
set -euo pipefail
packages=(
  build-essential cmake pkg-config git python3 python3-pytest
  libseccomp-dev libcapstone-dev libunwind-dev nlohmann-json3-dev libfmt-dev catch2 libcli11-dev libcurl4-openssl-dev
  docker.io podman runc
  strace sqlite3 clang libclang-rt-14-dev
  # fuzz/ (libFuzzer): clang 16, the first Debian clang that compiles the
  # tree's C++20 (lambdas capturing structured bindings).
  clang-16 libclang-rt-16-dev
)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"

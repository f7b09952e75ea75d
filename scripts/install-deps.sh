#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages that weft's build, tests and benchmarks need.
# As root: installs what is missing (first without `apt-get update`, then with it).
# Otherwise: prints the command to run and exits 1 if anything is missing.
#
# Usage: install-deps.sh [gcc] [clang] [tools]   (no argument: all three, as CI needs)
#   gcc    g++ 12 and the libraries: the dev/release/asan/tsan presets, the README
#   clang  clang 19 with libc++ 19: the clang, clang-libcxx and clang-tsan presets
#          (googletest: the sources, built by clang-libcxx against libc++)
#   tools  clang-tidy, clang-format, doxygen (docs), pkg-config and dpkg-dev
#          (scripts/check-package.sh), ccache
set -euo pipefail

gcc_packages=(g++ cmake ninja-build libgtest-dev libbenchmark-dev libfmt-dev libcli11-dev
              libhttp-parser-dev libsqlite3-dev curl   # examples/http_sqlite and its check
              prometheus                               # promtool checks to_prometheus in diagnostics_test
              libtbb-dev)                              # weft-bench: parallel_for vs std::execution::par
clang_packages=(clang-19 libc++-19-dev libc++abi-19-dev googletest)
tool_packages=(clang-tidy-19 clang-format-19 doxygen pkg-config dpkg-dev ccache)

sets=("$@")
((${#sets[@]} > 0)) || sets=(gcc clang tools)
packages=()
for s in "${sets[@]}"; do
  case $s in
    gcc) packages+=("${gcc_packages[@]}") ;;
    clang) packages+=("${clang_packages[@]}") ;;
    tools) packages+=("${tool_packages[@]}") ;;
    *) echo "install-deps: unknown set '$s' (gcc, clang, tools)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all present (${packages[*]})"
  exit 0
fi

if ((EUID != 0)); then
  echo "install-deps: missing ${missing[*]}; run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
if ! apt-get install -y -q "${missing[@]}"; then
  apt-get update -q
  apt-get install -y -q "${missing[@]}"
fi

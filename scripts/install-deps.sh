#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages that weft's build, tests and benchmarks need.
# As root: installs what is missing (first without `apt-get update`, then with it).
# Otherwise: prints the command to run and exits 1 if anything is missing.
set -euo pipefail

packages=(g++ cmake ninja-build libgtest-dev libbenchmark-dev libfmt-dev libcli11-dev libtbb-dev)
# examples/http_sqlite (HTTP parser, SQLite) and its test (curl drives check.sh).
packages+=(libhttp-parser-dev libsqlite3-dev curl)
# promtool: diagnostics_test checks to_prometheus with `promtool check metrics`.
packages+=(prometheus)

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

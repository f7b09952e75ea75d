#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# clang-tidy 19 with the repository's .clang-tidy over src/ (every .cpp) and the public
# headers (each include/weft/*.hpp through the interface-header-set check files).
#
#   bash scripts/run-clang-tidy.sh [build-dir]   (default build/clang; configured if missing)
#
# Prints every finding and a summary per check; exits 1 if there is any finding, so
# CI can run it once the count is 0 (see the summary for what remains).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build/clang}
tidy=${CLANG_TIDY:-clang-tidy-19}
jobs=${JOBS:-2}
command -v "$tidy" >/dev/null || { echo "run-clang-tidy: $tidy not found (scripts/install-deps.sh tools)" >&2; exit 2; }

if [[ ! -f $build/compile_commands.json ]]; then
  cmake --preset clang >/dev/null
  build=build/clang
fi
# The header-set check files (one tiny .cpp per public header) exist only once built.
cmake --build "$build" --target all_verify_interface_header_sets >/dev/null 2>&1 || true

mapfile -t files < <(
  git ls-files 'src/*.cpp'
  find "$build/weft_verify_interface_header_sets" -name '*.cxx' 2>/dev/null | sort
)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '%s\n' "${files[@]}" |
  xargs -P "$jobs" -n 4 "$tidy" -p "$build" --quiet 2>/dev/null >"$log" || true

# One finding a (file, line, column, check): the same header line is seen from many TUs.
findings=$(grep -E '^/.*:[0-9]+:[0-9]+: (warning|error):' "$log" | sort -u || true)
if [[ -z $findings ]]; then
  echo "run-clang-tidy: no findings in ${#files[@]} translation units"
  exit 0
fi
echo "$findings"
echo
echo "run-clang-tidy: $(wc -l <<<"$findings") findings in ${#files[@]} translation units, by check:"
grep -oE '\[[a-z0-9.,-]+\]$' <<<"$findings" | sort | uniq -c | sort -rn
exit 1

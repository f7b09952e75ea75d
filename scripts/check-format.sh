#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Format check with clang-format-19 and the repository's .clang-format.
#
#   bash scripts/check-format.sh [base]     (default base: origin/main, else main)
#     Fails if a line changed since `base` (committed or not) is not formatted;
#     prints the diff that would fix it. Lines nobody touched are never reported,
#     so existing code need not be reformatted wholesale.
#   bash scripts/check-format.sh --report
#     Counts, for every C++ file under include/, src/, tests/, examples/ and bench/,
#     the places clang-format would change; never fails.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
clang_format=${CLANG_FORMAT:-clang-format-19}
command -v "$clang_format" >/dev/null || { echo "check-format: $clang_format not found (scripts/install-deps.sh tools)" >&2; exit 2; }

if [[ ${1:-} == --report ]]; then
  total=0 files=0 dirty=0
  while IFS= read -r f; do
    n=$("$clang_format" --dry-run "$f" 2>&1 | grep -c 'warning:' || true)
    files=$((files + 1))
    if ((n > 0)); then
      dirty=$((dirty + 1))
      total=$((total + n))
      printf '%5d  %s\n' "$n" "$f"
    fi
  done < <(git ls-files '*.hpp' '*.cpp' | grep -E '^(include|src|tests|examples|bench)/')
  echo "check-format: $total places in $dirty of $files files differ from .clang-format (report only)"
  exit 0
fi

base=${1:-}
if [[ -z $base ]]; then
  if git rev-parse -q --verify origin/main >/dev/null; then base=origin/main; else base=main; fi
fi
merge_base=$(git merge-base "$base" HEAD)
# git-clang-format formats only the changed lines; --diff prints what it would change.
# Its output is "no modified files to format" or "clang-format did not modify any files"
# when everything is in order.
out=$(git "clang-format-19" --binary "$(command -v "$clang_format")" --diff "$merge_base" -- \
        'include/*.hpp' 'src/*.hpp' 'src/*.cpp' 'tests/*.hpp' 'tests/*.cpp' 'examples/*.cpp' 'bench/*.cpp' 2>&1 || true)
if [[ -z $out || $out == *"no modified files to format"* || $out == *"did not modify any files"* ]]; then
  echo "check-format: lines changed since ${base} ($(git rev-parse --short "$merge_base")) are formatted"
  exit 0
fi
echo "$out"
echo "check-format: the lines above, changed since ${base}, are not formatted as .clang-format says;" >&2
echo "  fix them with: git clang-format-19 $(git rev-parse --short "$merge_base")" >&2
exit 1

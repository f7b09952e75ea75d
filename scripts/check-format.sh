#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Format check with clang-format-19 and the repository's .clang-format, run by CI.
#
#   bash scripts/check-format.sh          fails if any C++ file of weft's own (include/,
#                                          src/, tests/, examples/, bench/ but not
#                                          bench/peers/, the Tokio and Asio reference
#                                          code) differs from .clang-format; prints
#                                          the places and the command that fixes them.
#   bash scripts/check-format.sh --fix    formats those files in place.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
clang_format=${CLANG_FORMAT:-clang-format-19}
command -v "$clang_format" >/dev/null || { echo "check-format: $clang_format not found (scripts/install-deps.sh tools)" >&2; exit 2; }

mapfile -t files < <(git ls-files '*.hpp' '*.cpp' | grep -E '^(include|src|tests|examples|bench)/' | grep -v '^bench/peers/')

if [[ ${1:-} == --fix ]]; then
  "$clang_format" -i "${files[@]}"
  echo "check-format: formatted ${#files[@]} files"
  exit 0
fi

findings=$("$clang_format" --dry-run "${files[@]}" 2>&1 | grep 'warning:' || true)
if [[ -z $findings ]]; then
  echo "check-format: ${#files[@]} files match .clang-format"
  exit 0
fi
echo "$findings"
echo "check-format: $(grep -c . <<<"$findings") places differ from .clang-format; fix them with: bash scripts/check-format.sh --fix" >&2
exit 1

// SPDX-License-Identifier: MIT
#pragma once
// A program that links counting_new.cpp replaces the global operator new
// with one that counts every allocation, on every thread (the blocking
// pool's too) — no LD_PRELOAD, no profiler. Used by blocking_allocs_test and
// bench/micro/blocking_allocs.cpp.
#include <cstdint>

namespace weft::test {

struct allocation_totals {
  std::uint64_t allocations = 0;
  std::uint64_t bytes = 0;
};

/// Everything allocated through operator new since the program started.
/// Relaxed counters: a window's start and end are ordered by the runtime's
/// own hand-offs (block_on, co_await), not by these.
allocation_totals allocations_so_far() noexcept;

}  // namespace weft::test

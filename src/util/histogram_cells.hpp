// SPDX-License-Identifier: MIT
#pragma once
// A duration_histogram that one thread records into while any thread reads
// it: relaxed atomics, so recording costs a few plain loads and stores (no
// read-modify-write, no shared line) and a reader adds the cells of every
// writer into a weft::duration_histogram snapshot.
//
// THREAD SAFETY: record() by one thread at a time (the owner: a worker, or a
// pool thread's record); add_to() by any thread. A snapshot may see a sample
// counted in one cell and not yet in another: each cell is exact on its own.
#include <weft/diagnostics.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace weft::detail {

class histogram_cells {
public:
  void record(std::chrono::nanoseconds d) noexcept {
    const std::int64_t ns = d.count() < 0 ? 0 : d.count();
    bump(buckets_[duration_histogram::bucket_of(d)], 1);
    bump(count_, 1);
    bump(sum_, static_cast<std::uint64_t>(ns));
    // relaxed: single writer; readers take a snapshot, pair with nothing.
    if (static_cast<std::uint64_t>(ns) > max_.load(std::memory_order_relaxed))
      max_.store(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
  }

  void add_to(duration_histogram& h) const noexcept {
    // relaxed: a snapshot of independent counters; pairs with nothing.
    for (std::size_t i = 0; i < buckets_.size(); ++i) h.buckets[i] += buckets_[i].load(std::memory_order_relaxed);
    h.count += count_.load(std::memory_order_relaxed);
    h.sum += std::chrono::nanoseconds(static_cast<std::int64_t>(sum_.load(std::memory_order_relaxed)));
    const std::chrono::nanoseconds max(static_cast<std::int64_t>(max_.load(std::memory_order_relaxed)));
    if (max > h.max) h.max = max;
  }

private:
  static void bump(std::atomic<std::uint64_t>& cell, std::uint64_t by) noexcept {
    // relaxed, load + store: only the owner writes (see the top comment).
    cell.store(cell.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  std::array<std::atomic<std::uint64_t>, 64> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};
};

}  // namespace weft::detail

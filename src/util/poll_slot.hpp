// SPDX-License-Identifier: MIT
#pragma once
// What an async worker publishes about the poll it is in, for the stall
// watchdog (src/diagnostics/watchdog.cpp) and for dumps: the task's id and
// spawn site, under a sequence number. The worker never reads the clock for
// it: the watchdog notices that a sequence number stays the same across its
// samples and measures the time itself.
//
// THREAD SAFETY:
// - Owner (the worker): begin() at the start of each poll, idle() when it
//   stops polling. Four relaxed-or-release stores, to a line of its own.
// - Any thread: read() — a seqlock reader that retries a torn read.
#include <weft/detail/task_header.hpp>

#include <atomic>
#include <cstdint>
#include <source_location>

namespace weft::detail {

static_assert(std::atomic<std::source_location>::is_always_lock_free);

class alignas(64) poll_slot {
public:
  struct sample {
    std::uint64_t seq = 0;   // changes with every poll (and every idle())
    task_id task = 0;        // 0: not polling
    std::source_location spawned_at;
  };

  /// Owner only: a poll of `task` begins.
  void begin(task_id task, std::source_location where) noexcept { write(task, where); }
  /// Owner only: the worker stopped polling (searching, parked, left block_on).
  void idle() noexcept { write(0, {}); }

  /// Any thread: a consistent copy, or false if the owner kept writing.
  bool read(sample& out) const noexcept {
    for (int attempt = 0; attempt < 4; ++attempt) {
      // acquire: pairs with the release store of the even value in write().
      const std::uint64_t before = seq_.load(std::memory_order_acquire);
      if (before & 1) continue;
      out.task = task_.load(std::memory_order_relaxed);
      out.spawned_at = where_.load(std::memory_order_relaxed);
      // acquire fence: pairs with the release fence in write(); if the loads
      // above saw a later write, the load below sees its odd value.
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) == before) {
        out.seq = before;
        return true;
      }
    }
    return false;
  }

private:
  void write(task_id task, std::source_location where) noexcept {
    // Only the owner writes seq_: a load and a store, no read-modify-write.
    const std::uint64_t seq = seq_.load(std::memory_order_relaxed);
    seq_.store(seq + 1, std::memory_order_relaxed);   // odd: being written
    // release fence: pairs with the reader's acquire fence (a seqlock).
    std::atomic_thread_fence(std::memory_order_release);
    task_.store(task, std::memory_order_relaxed);
    where_.store(where, std::memory_order_relaxed);
    // release: pairs with the reader's acquire load of seq_.
    seq_.store(seq + 2, std::memory_order_release);
  }

  std::atomic<std::uint64_t> seq_{0};
  std::atomic<task_id> task_{0};
  std::atomic<std::source_location> where_{};
};

}  // namespace weft::detail

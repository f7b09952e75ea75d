// SPDX-License-Identifier: MIT
#pragma once
// Which CPUs have an async worker spinning for work right now, process-wide.
//
// A worker that has run out of tasks spins a little, waiting for a
// completion. If a pool thread on the same CPU spins too, waiting for its next
// job, the two take turns by sched_yield — and under EEVDF a yield returns at
// once while the other thread has had more than its share, so each hand-off
// waits for the scheduler to notice (blocking_roundtrip with a co-runner:
// 8.2 µs, where a futex ping-pong on one CPU takes 3.7, limits.md §1).
// The worker marks its CPU while it spins; a pool thread whose last job came
// from that CPU parks instead of spinning when it sees the mark there
// (blocking_pool::spin_for_hand_off).
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <sched.h>

namespace weft::detail {

class idle_worker_spin {
public:
  /// Marks the calling thread's CPU for the guard's lifetime.
  idle_worker_spin() noexcept : slot_(slot_of(sched_getcpu())) {
    // relaxed: a scheduling hint; nothing is published through it.
    if (slot_ != nullptr) slot_->count.fetch_add(1, std::memory_order_relaxed);
  }
  idle_worker_spin(const idle_worker_spin&) = delete;
  idle_worker_spin& operator=(const idle_worker_spin&) = delete;
  ~idle_worker_spin() {
    if (slot_ != nullptr) slot_->count.fetch_sub(1, std::memory_order_relaxed);
  }

  /// True while some worker spins on the calling thread's CPU.
  static bool on_this_cpu() noexcept {
    const slot* s = slot_of(sched_getcpu());
    return s != nullptr && s->count.load(std::memory_order_relaxed) != 0;
  }

private:
  struct alignas(64) slot {
    std::atomic<std::uint32_t> count{0};
  };
  // CPUs beyond the table share slots: the hint only gets coarser.
  static constexpr std::size_t num_slots = 64;
  static std::array<slot, num_slots> slots_;

  static slot* slot_of(int cpu) noexcept {
    return cpu < 0 ? nullptr : &slots_[static_cast<std::size_t>(cpu) % num_slots];
  }

  slot* slot_;
};

inline std::array<idle_worker_spin::slot, idle_worker_spin::num_slots> idle_worker_spin::slots_{};

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
// The time driver: the timer wheel behind a mutex, so that any thread (a
// worker, a blocking closure, a foreign thread) can arm or cancel a timer,
// while the one thread parked in the runtime's driver sleeps until the
// earliest deadline and fires what is due.
//
// Firing: process() unlinks every due entry under the mutex, then fires
// them after unlocking, so a fire (a wake) never runs under the lock. A
// canceller that finds its entry no longer pending knows the fire is under
// way and waits for it to finish (timer_wait's handshake in sleep.cpp).
//
// Wake-ups: the driver thread records, under the mutex, the deadline it is
// sleeping until. insert() of an earlier deadline unparks it (the hook the
// runtime supplies), so a new short timer is never held up by a long sleep.
#include "time/timer_entry.hpp"
#include "time/wheel.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>

namespace weft::detail {

class time_driver {
public:
  explicit time_driver(std::function<void()> unpark_hook);

  /// Nanoseconds of steady_clock since its epoch: the wheel's clock.
  static std::uint64_t now_ns() noexcept;

  /// Arms `entry` for `deadline_ns`. Any thread.
  void insert(timer_entry& entry, std::uint64_t deadline_ns) noexcept;
  /// Disarms `entry`: true if it was removed before firing; false if it
  /// never was armed, already fired, or is being fired right now.
  bool remove(timer_entry& entry) noexcept;

  /// The driver thread is about to sleep: how long it may (nullopt = no
  /// timer). Records the wake-up time so that insert() knows when to unpark.
  std::optional<std::uint64_t> begin_sleep() noexcept;
  /// Fires every entry that is due now and ends the sleep.
  void process() noexcept;
  /// A busy worker's check: fires what is due at `now_ns` without ending the
  /// driver's sleep. One relaxed load when nothing is due.
  void fire_due(std::uint64_t now_ns) noexcept;
  /// Whether any timer is armed (a lower bound exists): lets a busy worker
  /// skip reading the clock when none is.
  bool has_armed() const noexcept { return earliest_ns_.load(std::memory_order_relaxed) != sleeping_forever; }

  std::size_t num_pending() const noexcept;

private:
  static constexpr std::uint64_t not_sleeping = 0;
  static constexpr std::uint64_t sleeping_forever = std::numeric_limits<std::uint64_t>::max();

  std::function<void()> unpark_hook_;
  mutable std::mutex mutex_;   // guards wheel_ and sleeping_until_
  timer_wheel wheel_;
  std::uint64_t sleeping_until_ = not_sleeping;
  // No later than the earliest armed deadline (a removal may leave it early:
  // the next fire_due then finds nothing and recomputes it). Written under
  // mutex_, read without it; relaxed: a stale value only delays or wastes
  // one check.
  std::atomic<std::uint64_t> earliest_ns_{sleeping_forever};

  // Under mutex_: unlinks what is due at `now_ns` and refreshes earliest_ns_.
  void take_due_locked(std::uint64_t now_ns, timer_list& due) noexcept;
};

/// The time driver of the calling thread's runtime. Declared here, defined
/// by runtime/ (which wires the drivers together), so that time/ knows
/// nothing of the runtime (DESIGN §1). Errors: weft::no_runtime outside one.
time_driver& current_time_driver();

}  // namespace weft::detail

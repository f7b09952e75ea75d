// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Time: `sleep`, `sleep_until`, `timeout` and `interval`, driven by the
/// runtime's timer wheel.
///
/// Deadlines are kept to the nanosecond (Tokio rounds every timer up to the
/// next millisecond); how late a timer fires is bounded by how fast the OS
/// wakes an idle worker — tens of microseconds here — not by a tick.

#include <weft/detail/awaitable.hpp>
#include <weft/detail/frame_borrow.hpp>
#include <weft/detail/deadline.hpp>
#include <weft/detail/inline_task.hpp>
#include <weft/detail/task_header.hpp>
#include <weft/join_handle.hpp>
#include <weft/spawn.hpp>
#include <weft/task.hpp>

#include <chrono>
#include <cstdint>
#include <expected>
#include <type_traits>
#include <utility>

namespace weft {

/// The error of a `timeout` whose deadline passed first.
struct elapsed {
  /// Always true: an elapsed carries no data.
  friend bool operator==(elapsed, elapsed) noexcept = default;
};

/// Completes once `duration` has passed (at once if it is zero or negative).
///
/// Resumes on: a worker of the current runtime.
/// Cancellation: destroying the awaiting frame (abort, timeout) removes the
/// timer; it never fires into freed memory.
/// Errors: weft::no_runtime outside a runtime.
[[nodiscard]] task<void> sleep(std::chrono::nanoseconds duration);

/// Completes once steady_clock reaches `deadline` (at once if it has).
/// As sleep() otherwise.
[[nodiscard]] task<void> sleep_until(std::chrono::steady_clock::time_point deadline);

namespace detail {

/// Suspends until `op` is woken (it needs polling) or until `deadline`.
[[nodiscard]] task<void> wait_woken_or_deadline(inline_task_base& op, std::chrono::steady_clock::time_point deadline);

template <awaitable A>
task<await_result_t<A>> as_task(A op) {
  co_return co_await std::move(op);
}

}  // namespace detail

/// Runs `op` with a time limit: its result, or `weft::elapsed` if `duration`
/// passes first.
///
/// The operation always starts. If it has finished by the deadline, its
/// result wins over the deadline. Otherwise it is cancelled and released —
/// its frame destroyed, its timers and I/O registrations removed — before
/// timeout returns. It is not spawned: the awaiting task polls it, on its
/// own worker, whenever it is woken (an operation that yields lets the
/// other tasks run first), and the deadline's timer is armed only while
/// the operation waits.
///
/// Resumes on: a worker of the current runtime.
/// Errors: rethrows what `op` throws.
///
/// Example:
///     auto r = co_await weft::timeout(100ms, fetch(url));
///     if (!r) log("fetch timed out");
template <awaitable A>
task<std::expected<await_result_t<A>, elapsed>> timeout(std::chrono::nanoseconds duration, A op) {
  using R = await_result_t<A>;
  const auto deadline = detail::deadline_after(duration);
  detail::inline_task_ref<R> inner(detail::as_task(std::move(op)));
  for (;;) {
    if (inner->take_woken()) {
      inner->poll();   // the first time: the operation starts, deadline or not
      if (inner->is_done()) {
        if constexpr (std::is_void_v<R>) {
          inner->take();   // rethrows what the operation threw
          co_return std::expected<void, elapsed>{};
        } else {
          co_return inner->take();
        }
      }
      // Woken while it ran (it yielded): let the other tasks run first.
      if (inner->is_woken()) {
        co_await yield_now();
        continue;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    co_await detail::wait_woken_or_deadline(*inner, deadline);
  }
  // A run_blocking inside the operation borrows its frame: its closure is
  // asked to stop, and the frame is released once the borrow has ended
  // (the end wakes the operation).
  while (inner->is_borrowed()) {
    detail::cancel_borrows_under(*inner);
    co_await detail::wait_woken_or_deadline(*inner, std::chrono::steady_clock::time_point::max());
    (void)inner->take_woken();
  }
  inner.reset();   // cancelled and released before timeout returns
  co_return std::unexpected(elapsed{});
}

/// What an interval does when ticks were missed (the task was late).
enum class missed_tick_behavior {
  burst,   ///< fire the missed ticks at once, then keep the original schedule (Tokio's default)
  delay,   ///< the next tick is one period after the late one fired
  skip,    ///< skip missed ticks; the next is the next multiple of the period
};

/// Ticks every `period`; the first tick completes at once (as Tokio).
///
/// Errors: std::invalid_argument for a period that is not positive.
/// Example:
///     weft::interval every(1ms);
///     for (;;) { co_await every.tick(); poll_sensor(); }
class interval {
public:
  /// Starts the schedule now: the first tick is due at once, then one every
  /// `period`. Errors: std::invalid_argument if `period` is not positive.
  explicit interval(std::chrono::nanoseconds period);

  /// Completes at the next tick. Resumes on: a worker of the current runtime.
  [[nodiscard]] task<void> tick();

  /// Sets what happens when ticks are missed (default: burst), from the next tick on.
  void set_missed_tick_behavior(missed_tick_behavior behavior) noexcept { behavior_ = behavior; }
  /// The current missed_tick_behavior.
  missed_tick_behavior get_missed_tick_behavior() const noexcept { return behavior_; }
  /// The period given at construction.
  std::chrono::nanoseconds period() const noexcept { return period_; }

private:
  std::chrono::nanoseconds period_;
  std::chrono::steady_clock::time_point next_;
  missed_tick_behavior behavior_ = missed_tick_behavior::burst;
};

}  // namespace weft

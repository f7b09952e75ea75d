// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::notify`: wakes tasks waiting for an event, with no data attached
/// (Tokio's Notify) — the building block for hand-made async conditions.

#include <weft/detail/waiter_list.hpp>

#include <coroutine>
#include <cstdint>
#include <mutex>

namespace weft {

/// Lets one task wake one or all others that wait for a signal.
///
/// notify_one() wakes the longest-waiting task; if none waits, it stores a
/// single permit that the next notified() consumes at once (so a notify that
/// arrives just before the wait is not lost; several such calls still store
/// one). notify_waiters() wakes every task waiting now and stores nothing.
/// The notify must outlive every pending notified().
///
/// Thread safety: every member may be called from any thread, including
/// threads outside the runtime.
///
/// Example:
///     weft::notify ready;
///     // consumer                        // producer
///     co_await ready.notified();          publish(item); ready.notify_one();
class notify {
public:
  class notified_op;

  notify() noexcept = default;
  notify(const notify&) = delete;
  notify& operator=(const notify&) = delete;
  ~notify() = default;

  /// Wakes the task that has waited longest, or stores one permit if no task
  /// waits.
  void notify_one() noexcept;

  /// Wakes every task waiting now — and every notified() created before
  /// this call, even if not yet awaited (as Tokio) — and stores no permit.
  void notify_waiters() noexcept;

  /// Waits for a notification; completes at once if a permit is stored
  /// (consuming it) or if notify_waiters() was called since this notified()
  /// was created.
  ///
  /// Resumes on: at once, on the awaiting thread, if a permit was stored;
  /// otherwise a worker of the runtime, woken by the notifying call (never
  /// inline inside notify_one() or notify_waiters()).
  /// Cancellation: if the awaiting frame is destroyed (abort, timeout), the
  /// waiter leaves the queue; a notify_one() that had already been handed to
  /// it passes on to the next waiter, or is stored as the permit. Nothing is
  /// lost.
  /// Errors: std::logic_error if awaited outside a weft task.
  [[nodiscard]] notified_op notified() noexcept;

private:
  friend class notified_op;
  /// The awaiter's half, under mutex_: true if it completes at once.
  bool consume_or_wait(detail::waiter_node& node, std::uint64_t created_at, std::coroutine_handle<> resume_at) noexcept;
  void cancel(detail::waiter_node& node) noexcept;
  /// notify_one's core; returns with `lock` released.
  void notify_one_locked(std::unique_lock<std::mutex>& lock) noexcept;

  std::mutex mutex_;   // guards has_permit_, num_waiters_calls_, waiters_ and every queued node
  bool has_permit_ = false;
  std::uint64_t num_waiters_calls_ = 0;   // notify_waiters() calls so far
  detail::waiter_list waiters_;
};

/// What notified() returns: await it (once). Movable until awaited, so it
/// can be created before checking a condition and awaited after, or handed
/// to weft::timeout.
class [[nodiscard]] notify::notified_op {
public:
  /// Waits for a notification; see notify::notified().
  auto operator co_await() && noexcept { return awaiter(*notify_, created_at_); }

private:
  friend class notify;
  notified_op(notify& n, std::uint64_t created_at) noexcept : notify_(&n), created_at_(created_at) {}

  // Holds the waiter node, so it stays where the coroutine put it.
  struct awaiter {
    awaiter(notify& n, std::uint64_t created_at) noexcept : notify_(n), created_at_(created_at) {}
    awaiter(const awaiter&) = delete;
    awaiter& operator=(const awaiter&) = delete;
    ~awaiter() {
      if (is_pending_) notify_.cancel(node_);
    }
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> resume_at) {
      detail::require_task();
      is_pending_ = !notify_.consume_or_wait(node_, created_at_, resume_at);
      return is_pending_;
    }
    void await_resume() noexcept { is_pending_ = false; }

    notify& notify_;
    std::uint64_t created_at_;
    detail::waiter_node node_;
    bool is_pending_ = false;
  };

  notify* notify_;
  std::uint64_t created_at_;   // num_waiters_calls_ when notified() was called
};

}  // namespace weft

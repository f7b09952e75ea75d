// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::mutex`: a fair (FIFO) mutual-exclusion lock for tasks, held across
/// co_await without blocking a worker (Tokio's Mutex, without the data).

#include <weft/detail/semaphore_core.hpp>

#include <coroutine>
#include <optional>
#include <utility>

namespace weft {

/// A lock that tasks wait for by suspending, not by blocking a thread.
///
/// Fair: waiters get the lock in the order they began waiting, and an
/// unlock with waiters hands the lock straight to the first of them — a
/// task arriving meanwhile (or try_lock) cannot take it first. Built on the
/// same fair semaphore as weft::semaphore, with one permit.
///
/// Use it only when the lock must be held across a co_await; for a short
/// critical section with no co_await in it, std::mutex is cheaper. The mutex
/// must outlive its guards and every pending lock().
///
/// Thread safety: every member may be called from any thread; a guard may be
/// released on a different thread than it was taken on.
///
/// Example:
///     weft::mutex m;
///     {
///       auto guard = co_await m.lock();
///       co_await write_record(file, rec);   // no other writer meanwhile
///     }                                    // unlocked here
class mutex {
public:
  class guard;
  class lock_op;

  mutex() : core_(1) {}
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;
  ~mutex() = default;

  /// Waits for the lock; `co_await m.lock()` gives a guard that unlocks
  /// when destroyed.
  ///
  /// Resumes on: at once, on the awaiting thread, if the lock is free and
  /// nobody waits; otherwise a worker of the runtime, woken by the unlock
  /// that handed it the lock (never inline inside that unlock).
  /// Cancellation: if the awaiting frame is destroyed (abort, timeout), the
  /// waiter leaves the queue; if the lock had already been handed to it, it
  /// passes on to the next waiter (or is released). Nothing stays locked.
  /// Errors: std::logic_error if awaited outside a weft task.
  [[nodiscard]] lock_op lock() noexcept;

  /// Takes the lock if it is free and nobody waits for it.
  [[nodiscard]] std::optional<guard> try_lock() noexcept;

private:
  detail::semaphore_core core_;   // one permit: the lock
};

/// Ownership of a locked weft::mutex; unlocks it when destroyed.
///
/// Move-only. Thread safety: one guard is used by one thread at a time; it
/// may be destroyed on any thread.
class [[nodiscard]] mutex::guard {
public:
  /// Moves the ownership; `other` no longer owns the lock.
  guard(guard&& other) noexcept : core_(std::exchange(other.core_, nullptr)) {}
  /// Takes `other`'s ownership; the lock this guard held, if any, is unlocked.
  guard& operator=(guard&& other) noexcept {
    guard taken(std::move(other));
    std::swap(core_, taken.core_);
    return *this;
  }
  guard(const guard&) = delete;
  guard& operator=(const guard&) = delete;
  ~guard() { unlock(); }

  /// Unlocks now (the destructor then does nothing). Hands the lock to the
  /// first waiter, if any, and wakes it.
  void unlock() noexcept {
    if (auto* core = std::exchange(core_, nullptr)) core->release(1);
  }
  /// False once unlocked or moved from.
  bool owns_lock() const noexcept { return core_ != nullptr; }

private:
  friend class mutex;
  explicit guard(detail::semaphore_core* core) noexcept : core_(core) {}
  detail::semaphore_core* core_;
};

/// What lock() returns: await it (once) for a guard. Movable until awaited,
/// so it can be handed to weft::timeout.
class [[nodiscard]] mutex::lock_op {
public:
  /// Waits for the lock and gives a guard; see mutex::lock().
  auto operator co_await() && noexcept { return awaiter(*core_); }

private:
  friend class mutex;
  explicit lock_op(detail::semaphore_core& core) noexcept : core_(&core) {}

  // Holds the waiter node, so it stays where the coroutine put it.
  struct awaiter {
    explicit awaiter(detail::semaphore_core& core) noexcept : inner_(core, 1), core_(core) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> resume_at) { return inner_.await_suspend(resume_at); }
    guard await_resume() noexcept {
      inner_.await_resume();   // a mutex is never closed: always granted
      return guard(&core_);
    }
    detail::acquire_awaiter inner_;
    detail::semaphore_core& core_;
  };

  detail::semaphore_core* core_;
};

inline mutex::lock_op mutex::lock() noexcept { return lock_op(core_); }

inline std::optional<mutex::guard> mutex::try_lock() noexcept {
  if (!core_.try_acquire(1)) return std::nullopt;
  return guard(&core_);
}

}  // namespace weft

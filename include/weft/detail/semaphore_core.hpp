// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The fair (FIFO) counting semaphore under weft::semaphore, weft::mutex and
/// the send side of a bounded mpsc channel (as Tokio's batch_semaphore is).
/// Internal; not API.

#include <weft/detail/waiter_list.hpp>

#include <coroutine>
#include <cstddef>
#include <limits>
#include <mutex>

namespace weft::detail {

/// Permits plus a FIFO of waiters, each wanting some number of them.
///
/// Fairness: a request is granted only when every earlier request has been,
/// so a large request at the head holds back smaller ones behind it and
/// nobody starves. try_acquire does not jump the queue either.
///
/// Thread safety: every member may be called from any thread.
class semaphore_core {
public:
  /// The most permits a semaphore can hold (as Tokio: a margin below
  /// SIZE_MAX, so that adding returned permits can never overflow).
  static constexpr std::size_t max_permits = std::numeric_limits<std::size_t>::max() >> 3;

  /// A queued acquire; lives in the awaiting frame.
  struct waiter : waiter_node {
    std::size_t needed_ = 0;
  };

  /// Errors: std::invalid_argument if permits > max_permits.
  explicit semaphore_core(std::size_t permits);
  semaphore_core(const semaphore_core&) = delete;
  semaphore_core& operator=(const semaphore_core&) = delete;
  ~semaphore_core() = default;

  /// Takes `n` permits if nobody is queued and enough are free.
  bool try_acquire(std::size_t n) noexcept;
  /// Takes `n` permits at once (true; status_ granted, or closed), or queues
  /// `node` to be resumed at `resume_at` (false). Precondition: require_task().
  bool acquire_or_wait(waiter& node, std::size_t n, std::coroutine_handle<> resume_at) noexcept;
  /// Returns `n` permits and grants queued requests that now fit.
  void release(std::size_t n) noexcept;
  /// As release(); std::invalid_argument if the total would pass max_permits.
  void add_permits(std::size_t n);
  /// The destructor of a suspended acquire: unlinks `node`, or gives back the
  /// permits it was granted; either way, waiters behind it may now proceed.
  void cancel(waiter& node) noexcept;
  /// Fails every queued and future acquire (status_ closed).
  void close() noexcept;

  bool is_closed() const noexcept;
  std::size_t available() const noexcept;

private:
  /// Grants the head while it fits; returns with `lock` released.
  void grant_waiters(std::unique_lock<std::mutex>& lock) noexcept;

  mutable std::mutex mutex_;   // guards permits_, waiters_, is_closed_ and every queued node
  std::size_t permits_;
  waiter_list waiters_;
  bool is_closed_ = false;
};

/// The awaiter of an acquire of `n` permits: the node lives here, so in the
/// awaiting frame. await_resume gives true for "acquired", false for "closed".
class acquire_awaiter {
public:
  acquire_awaiter(semaphore_core& core, std::size_t n) noexcept : core_(core), n_(n) {}
  acquire_awaiter(const acquire_awaiter&) = delete;
  acquire_awaiter& operator=(const acquire_awaiter&) = delete;
  ~acquire_awaiter() {
    if (is_pending_) core_.cancel(node_);
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> resume_at) {
    require_task();
    is_pending_ = !core_.acquire_or_wait(node_, n_, resume_at);
    return is_pending_;
  }
  /// Resumed only once granted or closed (see waiter_list.hpp), so the
  /// status needs no lock: the waker's wake() published it.
  bool await_resume() noexcept {
    is_pending_ = false;
    return node_.status_ == waiter_status::granted;
  }

private:
  semaphore_core& core_;
  std::size_t n_;
  semaphore_core::waiter node_;
  bool is_pending_ = false;
};

}  // namespace weft::detail

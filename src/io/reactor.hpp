// SPDX-License-Identifier: MIT
#pragma once
// The I/O reactor: epoll (edge-triggered) plus an eventfd that unparks it.
// See reactor.cpp for the design, the registration lifetime and why
// deregistration is safe against a wake in flight.
#include "io/registration.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

struct epoll_event;

namespace weft::detail {

class reactor {
public:
  /// epoll_create1(EPOLL_CLOEXEC) and an eventfd for unpark().
  /// Errors: std::system_error if the OS refuses either.
  reactor();
  ~reactor();
  reactor(const reactor&) = delete;
  reactor& operator=(const reactor&) = delete;

  // -- the driver ----------------------------------------------------------------
  /// Waits for I/O readiness or unpark() for at most `timeout` (nullopt: no
  /// limit; zero: do not block) with epoll_pwait2's nanosecond timeout
  /// (epoll_wait with the timeout rounded up to 1 ms where the kernel lacks
  /// it), then wakes the waiters of every registration whose interest became
  /// ready, on this thread. EINTR just returns. True if anything (readiness
  /// or an unpark) ended the wait, false if it timed out.
  /// Thread safety: one thread at a time (callers serialise, e.g. by a lock).
  bool wait(std::optional<std::chrono::nanoseconds> timeout) noexcept;

  /// Makes a concurrent or the next wait() return promptly. A flood of
  /// unparks costs one eventfd write until a wait() consumes it; the caller
  /// must look for work after wait() returns (see reactor.cpp, "Unpark").
  /// Thread safety: any thread.
  void unpark() noexcept;

  // -- registrations ---------------------------------------------------------
  /// Registers the non-blocking descriptor `fd` once, for edge-triggered
  /// read and write readiness (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET).
  /// The registration stays valid until remove(). Thread safety: any thread.
  /// Errors: std::system_error (e.g. ENOMEM, ENOSPC from epoll_ctl).
  registration* add(int fd);

  /// Deregisters `r` (EPOLL_CTL_DEL) before its descriptor is closed; the
  /// registration is freed at the start of a later wait(), once no event
  /// naming it can still be in the driver's hands. No task may be waiting on
  /// it (its owner is being destroyed). Thread safety: any thread.
  void remove(registration* r) noexcept;

  /// Registrations removed but not yet freed (tests).
  std::size_t num_pending_release() const noexcept;

private:
  void free_released() noexcept;
  int epoll_for(std::optional<std::chrono::nanoseconds> timeout) noexcept;
  void drain_unpark() noexcept;

  static constexpr int max_events = 256;

  // events_ first: allocated before the descriptors exist, so that a
  // bad_alloc leaves none open.
  std::unique_ptr<epoll_event[]> events_;   // used only by the thread in wait()
  int epoll_fd_ = -1;
  int event_fd_ = -1;
  // seq_cst: a Dekker pair with the caller's own work queue (unpark after
  // publishing work; wait clears it before the caller re-checks its queue).
  std::atomic<bool> unpark_pending_{false};
  // Registrations removed since the last wait() began (Treiber stack):
  // release on push pairs with the acquire exchange in free_released().
  std::atomic<registration*> released_{nullptr};
  // Publishes each new registration to the thread in wait(): release in add()
  // before EPOLL_CTL_ADD pairs with the acquire in wait() after epoll returns.
  // The kernel already orders the two, but ThreadSanitizer cannot see through
  // epoll; this makes the order visible to it for the price of one RMW per add.
  std::atomic<std::uint64_t> num_added_{0};
  // Set once if epoll_pwait2 gives ENOSYS; relaxed, any stale read just
  // costs one more ENOSYS.
  std::atomic<bool> no_pwait2_{false};
};

}  // namespace weft::detail

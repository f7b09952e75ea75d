// SPDX-License-Identifier: MIT
#pragma once
// One file descriptor's readiness, shared by the reactor (which counts the
// events epoll reports) and the tasks that wait on the descriptor. The
// protocol and the lifetime rules are in reactor.cpp's top comment.
#include <weft/detail/task_header.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <mutex>

namespace weft::detail {

/// The two interests of a registration, woken separately.
enum class direction : std::uint8_t { read = 0, write = 1 };

class readiness_awaiter;

/// A registered file descriptor: per direction, a count of readiness events
/// (the "ticket") and the list of tasks waiting for the next one.
///
/// Thread safety: ticket() and the awaiter from any task; notify() only from
/// the reactor's wait().
class registration {
public:
  explicit registration(int fd) noexcept : fd_(fd) {}
  registration(const registration&) = delete;
  registration& operator=(const registration&) = delete;
  ~registration() = default;

  int fd() const noexcept { return fd_; }

  /// The number of readiness events seen so far for `d`. Take it *before*
  /// the syscall that may fail with EAGAIN, then wait with it: an event that
  /// arrives in between changes it, so the wait returns at once.
  std::uint32_t ticket(direction d) const noexcept {
    // acquire: pairs with the release increment in notify(); also keeps the
    // caller's later syscall from being hoisted above this load.
    return ticks_[index(d)].load(std::memory_order_acquire);
  }

  /// Records a readiness event for `d` and wakes the tasks that were waiting
  /// for it (wakers are invoked outside the lock). Reactor only.
  void notify(direction d) noexcept;

  /// Number of tasks waiting for `d` (tests).
  std::size_t num_waiters(direction d) noexcept;

private:
  friend class readiness_awaiter;
  friend class reactor;
  static constexpr int index(direction d) noexcept { return static_cast<int>(d); }

  const int fd_;
  std::mutex mutex_;   // guards head_, tail_ and the links and wakers of every awaiter in them
  readiness_awaiter* head_[2] = {nullptr, nullptr};
  readiness_awaiter* tail_[2] = {nullptr, nullptr};
  // Events seen per direction: incremented under mutex_ (release) by notify(),
  // read with acquire by ticket() before a syscall, and relaxed under mutex_
  // by await_suspend (the lock orders it there).
  std::atomic<std::uint32_t> ticks_[2] = {0, 0};
  registration* next_released_ = nullptr;   // the reactor's release list (see reactor::remove)
};

/// Suspends the calling task until `reg` sees a readiness event for `dir`
/// after the one numbered `ticket`; returns at once if it already has.
///
/// The awaiter is linked into the registration while suspended and unlinks
/// itself (under the registration's lock) when destroyed, so a task whose
/// frame is destroyed while waiting leaves nothing behind; the reactor takes
/// the waker out under the same lock, so it never touches a dead awaiter.
/// Use it as a named local (`readiness_awaiter ready(...); co_await ready;`).
///
/// Resumes on: a worker of the runtime, after the reactor's wait() saw the
/// event — possibly spuriously: retry the syscall, and on EAGAIN wait again.
/// Errors: std::logic_error if awaited outside a weft task.
class [[nodiscard]] readiness_awaiter {
public:
  readiness_awaiter(registration& reg, direction dir, std::uint32_t ticket) noexcept
      : reg_(reg), dir_(dir), ticket_(ticket) {}
  readiness_awaiter(const readiness_awaiter&) = delete;
  readiness_awaiter& operator=(const readiness_awaiter&) = delete;
  ~readiness_awaiter();

  bool await_ready() const noexcept { return reg_.ticket(dir_) != ticket_; }
  bool await_suspend(std::coroutine_handle<> self);
  void await_resume() const noexcept {}

private:
  friend class registration;
  void unlink() noexcept;   // caller holds reg_.mutex_

  registration& reg_;
  const direction dir_;
  const std::uint32_t ticket_;
  bool suspended_ = false;   // touched only by the awaiting task
  bool linked_ = false;      // guarded by reg_.mutex_
  readiness_awaiter* prev_ = nullptr;   // guarded by reg_.mutex_
  readiness_awaiter* next_ = nullptr;   // guarded by reg_.mutex_
  waker waker_;                         // guarded by reg_.mutex_
};

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::semaphore`: a fair counting semaphore for tasks, to bound how many
/// run a section at once (Tokio's Semaphore).

#include <weft/detail/semaphore_core.hpp>

#include <coroutine>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <utility>

namespace weft {

/// A set of permits that tasks acquire, wait for, and give back.
///
/// Fair: acquires are granted in the order they began waiting, and a large
/// request at the head of the queue holds back smaller ones behind it (so it
/// cannot starve); try_acquire does not jump the queue. The semaphore must
/// outlive its permits and every pending acquire.
///
/// Thread safety: every member may be called from any thread.
///
/// Example:
///     weft::semaphore limit(4);   // at most four downloads at once
///     auto permit = co_await limit.acquire();
///     co_await download(url);     // permit returned when it goes out of scope
class semaphore {
public:
  class permit;
  class acquire_op;

  /// The most permits a semaphore can hold.
  static constexpr std::size_t max_permits = detail::semaphore_core::max_permits;

  /// Starts with `permits` free permits.
  /// Errors: std::invalid_argument if permits > max_permits.
  explicit semaphore(std::size_t permits) : core_(permits) {}
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;
  ~semaphore() = default;

  /// Waits until `n` permits are free and it is this request's turn, then
  /// takes them; `co_await s.acquire(n)` gives a permit that returns them
  /// when destroyed. acquire(0) completes at once.
  ///
  /// Resumes on: at once, on the awaiting thread, if the permits are free
  /// and nobody is queued; otherwise a worker of the runtime, woken by the
  /// release that granted them (never inline inside that release).
  /// Cancellation: if the awaiting frame is destroyed (abort, timeout), the
  /// request leaves the queue; permits already granted to it are given back
  /// and go to the next waiter. Nothing leaks.
  /// Errors: std::invalid_argument (from acquire itself) if n > max_permits;
  /// std::logic_error if awaited outside a weft task.
  [[nodiscard]] acquire_op acquire(std::size_t n = 1);

  /// Takes `n` permits if they are free and nobody is queued.
  [[nodiscard]] std::optional<permit> try_acquire(std::size_t n = 1) noexcept;

  /// Adds `n` permits (waking queued acquires that now fit).
  /// Errors: std::invalid_argument if the total would pass max_permits.
  void add_permits(std::size_t n) { core_.add_permits(n); }

  /// Permits free now (a snapshot: other threads may change it at once).
  /// A queued request that needs more than this holds them back.
  std::size_t available_permits() const noexcept { return core_.available(); }

private:
  detail::semaphore_core core_;
};

/// Permits taken from a semaphore; gives them back when destroyed.
///
/// Move-only. Thread safety: one permit is used by one thread at a time; it
/// may be destroyed on any thread.
class [[nodiscard]] semaphore::permit {
public:
  permit() noexcept = default;
  /// Moves the permits; `other` then holds none.
  permit(permit&& other) noexcept
      : core_(std::exchange(other.core_, nullptr)), num_permits_(std::exchange(other.num_permits_, 0)) {}
  /// Takes `other`'s permits; those this one held, if any, are given back.
  permit& operator=(permit&& other) noexcept {
    permit taken(std::move(other));
    std::swap(core_, taken.core_);
    std::swap(num_permits_, taken.num_permits_);
    return *this;
  }
  permit(const permit&) = delete;
  permit& operator=(const permit&) = delete;
  ~permit() {
    if (core_ && num_permits_ != 0) core_->release(num_permits_);
  }

  /// How many permits this holds.
  std::size_t num_permits() const noexcept { return num_permits_; }
  /// Drops the permits without giving them back: the semaphore shrinks.
  void forget() noexcept {
    core_ = nullptr;
    num_permits_ = 0;
  }

private:
  friend class semaphore;
  permit(detail::semaphore_core* core, std::size_t n) noexcept : core_(core), num_permits_(n) {}
  detail::semaphore_core* core_ = nullptr;
  std::size_t num_permits_ = 0;
};

/// What acquire() returns: await it (once) for a permit. Movable until
/// awaited, so it can be handed to weft::timeout.
class [[nodiscard]] semaphore::acquire_op {
public:
  /// Waits for the permits and gives a permit; see semaphore::acquire().
  auto operator co_await() && noexcept { return awaiter_type{*core_, n_}; }

private:
  friend class semaphore;
  acquire_op(detail::semaphore_core& core, std::size_t n) noexcept : core_(&core), n_(n) {}

  // Holds the waiter node, so it stays where the coroutine put it.
  struct awaiter_type {
    awaiter_type(detail::semaphore_core& core, std::size_t n) noexcept : inner_(core, n), core_(core), n_(n) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> resume_at) { return inner_.await_suspend(resume_at); }
    permit await_resume() noexcept {
      inner_.await_resume();   // a public semaphore is never closed: always granted
      return permit(&core_, n_);
    }
    detail::acquire_awaiter inner_;
    detail::semaphore_core& core_;
    std::size_t n_;
  };

  detail::semaphore_core* core_;
  std::size_t n_;
};

inline semaphore::acquire_op semaphore::acquire(std::size_t n) {
  if (n > max_permits) throw std::invalid_argument("weft: semaphore::acquire of more than max_permits");
  return acquire_op(core_, n);
}

inline std::optional<semaphore::permit> semaphore::try_acquire(std::size_t n) noexcept {
  if (!core_.try_acquire(n)) return std::nullopt;
  return permit(&core_, n);
}

}  // namespace weft

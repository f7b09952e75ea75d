// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::join_handle<T>`: owned permission to await, abort or stop one task
/// started by spawn or spawn_blocking.

#include <weft/detail/access.hpp>
#include <weft/detail/join_state.hpp>
#include <weft/join_error.hpp>

#include <coroutine>
#include <expected>
#include <stdexcept>
#include <utility>

namespace weft {

namespace detail {
/// std::logic_error on an async worker of any weft runtime (there, blocking
/// would stall the worker, or deadlock if the task needs it); see block_on.
void check_may_block();
}  // namespace detail
template <class T>
class abort_on_drop;

/// The result of spawn() or spawn_blocking(): await it for the task's value.
///
/// Move-only. Destroying the handle detaches the task: it keeps running and
/// its result is dropped.
///
/// Thread safety: one handle is used by one thread at a time; abort(),
/// request_stop(), is_finished() and id() may race the task itself.
///
/// Resumes on: a worker of the runtime the awaiting task belongs to — never
/// on the blocking thread that ran the closure.
///
/// Errors: `co_await h` gives the value, rethrows what the task threw, or
/// throws join_error (is_cancelled()) if it was cancelled. `co_await h.join()`
/// never throws: it gives `std::expected<T, join_error>`. Awaiting a handle a
/// second time, or an empty (moved-from) handle, throws std::logic_error.
///
/// Example:
///     auto h = weft::spawn_blocking([path] { return read_file(path); });
///     std::string text = co_await h;
template <class T>
class [[nodiscard]] join_handle {
public:
  /// What awaiting the handle gives: the task's result type.
  using value_type = T;

  join_handle() noexcept = default;
  /// Moves the handle; `other` becomes empty.
  join_handle(join_handle&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  /// Takes `other`'s task; the task this handle had is detached, as on destruction.
  join_handle& operator=(join_handle&& other) noexcept {
    join_handle taken(std::move(other));
    std::swap(state_, taken.state_);
    return *this;
  }
  join_handle(const join_handle&) = delete;
  join_handle& operator=(const join_handle&) = delete;
  ~join_handle() {
    if (state_) state_->release();
  }

  /// Suspends until the task finishes; see the class doc for what it gives.
  auto operator co_await() & { return awaiter{checked_state()}; }
  /// Suspends until the task finishes, for a temporary handle (`co_await spawn(...)`).
  auto operator co_await() && { return awaiter{checked_state()}; }

  /// Suspends until the task finishes and gives the join layer as a value.
  [[nodiscard]] auto join() { return joiner{checked_state()}; }

  /// Cancels the task.
  ///
  /// Cancellation: an async task is cancelled at its next suspension point
  /// (its frame is destroyed; a task aborted before its first poll never
  /// runs). A blocking closure that has not started never runs: it leaves
  /// the queue at once, its captures are destroyed and the handle resolves
  /// as cancelled. A closure that has started runs to completion and the
  /// handle gives its result; if it is stop-aware, stop is requested.
  ///
  /// The captures of a closure that never started are destroyed here, on
  /// the thread calling abort() — usually an async worker: a capture with a
  /// slow destructor (joining a thread, flushing a file) stalls that worker
  /// for as long; move such state into the closure's body instead. A
  /// capture destructor that throws is reported as the task's panic (the
  /// handle gives join_error::is_panic()), never std::terminate.
  void abort() noexcept {
    if (state_) state_->abort();
  }

  /// Signals the std::stop_token of a stop-aware blocking closure (queued or
  /// running). Does not cancel; no effect on async tasks.
  void request_stop() noexcept {
    if (state_) state_->request_stop();
  }

  /// True once the task has finished (with a value, an exception or cancelled).
  bool is_finished() const noexcept { return state_ && state_->is_complete(); }
  /// The task's id (unique for the life of the process); 0 for an empty handle.
  task_id id() const noexcept { return state_ ? state_->id() : task_id{}; }

  /// Blocks the calling thread until the task finishes and gives the join
  /// layer as a value, as `co_await h.join()` does.
  /// Errors: std::logic_error on an async worker of any runtime (co_await
  /// the handle there instead), as block_on.
  std::expected<T, join_error> wait() {
    detail::check_may_block();
    detail::join_state<T>* state = checked_state();
    state->wait_complete();
    return state->take_result();
  }

  /// Blocks the calling thread until the task finishes and gives what
  /// `co_await h` would: the value, the task's exception rethrown, or
  /// join_error if it was cancelled (used by block_on).
  /// Errors: std::logic_error on an async worker of any runtime, as wait().
  T get() {
    detail::check_may_block();
    detail::join_state<T>* state = checked_state();
    state->wait_complete();
    return state->take_value();
  }

  /// Gives the handle up for an abort_on_drop: awaitable as the handle,
  /// and destroying it aborts the task (see abort_on_drop).
  [[nodiscard]] weft::abort_on_drop<T> abort_on_drop() && noexcept;

private:
  friend struct detail::access;
  explicit join_handle(detail::join_state<T>* state) noexcept : state_(state) {}

  detail::join_state<T>* checked_state() {
    if (!state_) throw std::logic_error("weft: awaiting an empty join_handle");
    // The flag lives in the task's header, so that a handle is one pointer.
    if (!state_->claim_join()) throw std::logic_error("weft: a join_handle can be awaited only once");
    return state_;
  }

  /// Registers the awaiting task as the joiner; false = already complete.
  static bool suspend_on(detail::join_state<T>* state, std::coroutine_handle<> caller) {
    detail::task_header* self = detail::task_header::current();
    if (!self) throw std::logic_error("weft: a join_handle must be awaited inside a weft task");
    return state->set_join_waiter(self->prepare_suspend(caller));
  }

  struct awaiter {
    detail::join_state<T>* state_;
    bool await_ready() const noexcept { return state_->is_complete(); }
    bool await_suspend(std::coroutine_handle<> caller) const { return suspend_on(state_, caller); }
    T await_resume() const { return state_->take_value(); }
  };

  struct joiner {
    detail::join_state<T>* state_;
    bool await_ready() const noexcept { return state_->is_complete(); }
    bool await_suspend(std::coroutine_handle<> caller) const { return suspend_on(state_, caller); }
    std::expected<T, join_error> await_resume() const { return state_->take_result(); }
  };

  detail::join_state<T>* state_ = nullptr;
};

/// A join_handle that aborts its task when destroyed, made by
/// `std::move(h).abort_on_drop()`: use it where dropping the handle should
/// cancel the work, as in `timeout(d, std::move(h).abort_on_drop())` or a
/// when_any operand.
///
/// Await it as the handle (once): it gives the value, rethrows the task's
/// exception, or throws join_error if the task was cancelled; `join()`
/// gives the join layer as a value.
///
/// Thread safety: as join_handle.
/// Resumes on: as join_handle.
/// Cancellation: destroying it calls abort() — an async task is cancelled at
/// its next suspension point; a blocking closure that has not started never
/// runs, and a stop-aware one that runs has stop requested. So a timeout
/// that expires on an abort_on_drop of a stop-aware closure requests its
/// stop. A finished task is unaffected.
/// Errors: as join_handle; a second await throws std::logic_error.
///
/// Example:
///     auto h = weft::spawn_blocking([](std::stop_token st) { return crunch(st); });
///     auto r = co_await weft::timeout(1s, std::move(h).abort_on_drop());
template <class T>
class [[nodiscard]] abort_on_drop {
public:
  /// What awaiting it gives: the task's result type.
  using value_type = T;

  abort_on_drop() noexcept = default;
  /// Takes over `handle`; `std::move(h).abort_on_drop()` is the usual spelling.
  explicit abort_on_drop(join_handle<T> handle) noexcept : handle_(std::move(handle)) {}
  /// Moves the handle; the source becomes empty (destroying it aborts nothing).
  abort_on_drop(abort_on_drop&&) noexcept = default;
  /// Takes `other`'s task; the task this one had is aborted.
  abort_on_drop& operator=(abort_on_drop&& other) noexcept {
    abort_on_drop taken(std::move(other));
    std::swap(handle_, taken.handle_);
    return *this;
  }
  abort_on_drop(const abort_on_drop&) = delete;
  abort_on_drop& operator=(const abort_on_drop&) = delete;
  ~abort_on_drop() { handle_.abort(); }

  /// Suspends until the task finishes; see join_handle.
  auto operator co_await() & { return handle_.operator co_await(); }
  /// Suspends until the task finishes, for a temporary (`co_await std::move(h).abort_on_drop()`).
  auto operator co_await() && { return handle_.operator co_await(); }
  /// As join_handle::join(): the join layer as a value.
  [[nodiscard]] auto join() { return handle_.join(); }

  /// As join_handle::abort().
  void abort() noexcept { handle_.abort(); }
  /// As join_handle::request_stop().
  void request_stop() noexcept { handle_.request_stop(); }
  /// As join_handle::is_finished().
  bool is_finished() const noexcept { return handle_.is_finished(); }
  /// As join_handle::id().
  task_id id() const noexcept { return handle_.id(); }

  /// Gives the plain handle back: dropping it then detaches the task.
  [[nodiscard]] join_handle<T> detach() && noexcept { return std::move(handle_); }

private:
  join_handle<T> handle_;
};

template <class T>
weft::abort_on_drop<T> join_handle<T>::abort_on_drop() && noexcept {
  return weft::abort_on_drop<T>(std::move(*this));
}

}  // namespace weft

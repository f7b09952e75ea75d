// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::task<T>`: the coroutine type of weft. Lazy, move-only, and awaited
/// without stack growth, so a loop of a million awaits uses no stack.

#include <weft/detail/access.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

namespace weft {

template <class T = void>
class task;

namespace detail {

/// Memory for coroutine frames and spawned-task headers: per-thread pools
/// that give a block back to the thread that allocated it (see
/// src/task/task_memory.cpp). std::bad_alloc if the system has no memory.
void* allocate_task_memory(std::size_t size);
/// `size` is the size given to allocate_task_memory. Any thread.
void free_task_memory(void* block, std::size_t size) noexcept;

/// Where a finished task goes next: the coroutine that awaited it, or, for a
/// task the runtime polls directly, back to the runtime (noop).
///
/// Awaiting a task resumes it inside the awaiter's await_suspend. Whichever
/// of the two arrives second at `handoff_` continues the awaiting coroutine:
/// if the child finished before await_suspend returned, await_suspend
/// returns false and the parent simply goes on, so sequential awaits never
/// nest stack frames — even at -O0, where g++ does not turn symmetric
/// transfer into a tail call.
struct final_awaiter {
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) const noexcept {
    auto& promise = self.promise();
    // acq_rel: pairs with the exchange in task's awaiter (the result written
    // by this coroutine is visible to the parent that continues).
    if (promise.continuation_ && promise.handoff_.exchange(true, std::memory_order_acq_rel))
      return promise.continuation_;
    return std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

struct task_promise_base {
  static void* operator new(std::size_t size) { return allocate_task_memory(size); }
  static void operator delete(void* frame, std::size_t size) noexcept { free_task_memory(frame, size); }

  std::suspend_always initial_suspend() const noexcept { return {}; }
  final_awaiter final_suspend() const noexcept { return {}; }
  std::coroutine_handle<> continuation_;
  std::atomic<bool> handoff_{false};
};

/// Result slot shared by task<T>'s promise and join states: empty, a value or
/// an exception. void results are stored as std::monostate.
template <class T>
using stored_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
struct task_promise : task_promise_base {
  task<T> get_return_object() noexcept;
  void unhandled_exception() noexcept { result_.template emplace<2>(std::current_exception()); }
  template <class U = T>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    result_.template emplace<1>(std::forward<U>(value));
  }
  /// Moves the result out; rethrows a stored exception.
  T take() {
    if (result_.index() == 2) std::rethrow_exception(std::get<2>(result_));
    return std::move(std::get<1>(result_));
  }
  std::variant<std::monostate, T, std::exception_ptr> result_;
};

template <>
struct task_promise<void> : task_promise_base {
  task<void> get_return_object() noexcept;
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
  void return_void() const noexcept {}
  void take() {
    if (error_) std::rethrow_exception(error_);
  }
  std::exception_ptr error_;
};

}  // namespace detail

/// A lazily started coroutine producing a `T`.
///
/// A task starts when it is awaited (it then runs inline, on the awaiting
/// thread) or when it is spawned. An exception that escapes the coroutine is
/// stored and rethrown to the awaiter. Destroying a task that has not finished
/// destroys its frame, running the destructors of its locals: that is how
/// cancellation cleans up.
///
/// Resumes on: the thread that completes the innermost operation the task
/// was waiting for; for weft's awaitables, a worker of the runtime.
///
/// Example:
///     weft::task<int> answer() { co_return 42; }
///     weft::task<> caller() { int v = co_await answer(); }
template <class T>
class [[nodiscard]] task {
public:
  /// The coroutine promise (internal; makes `task<T>` a coroutine return type).
  using promise_type = detail::task_promise<T>;
  /// What awaiting the task gives.
  using value_type = T;

  task() noexcept = default;
  /// Moves the coroutine; `other` is left empty (not is_valid()).
  task(task&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
  /// Takes `other`'s coroutine; the one this task held, if any, is destroyed.
  task& operator=(task&& other) noexcept {
    task taken(std::move(other));
    std::swap(frame_, taken.frame_);
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() {
    if (frame_) frame_.destroy();
  }

  /// True if this task holds a coroutine (not moved from, not default).
  bool is_valid() const noexcept { return static_cast<bool>(frame_); }

  /// Runs the task inline and gives its result (or rethrows its exception).
  /// Preconditions: is_valid(), and the task has not been awaited before.
  auto operator co_await() && noexcept {
    struct awaiter {
      std::coroutine_handle<promise_type> frame_;
      bool await_ready() const noexcept { return false; }
      bool await_suspend(std::coroutine_handle<> caller) const noexcept {
        frame_.promise().continuation_ = caller;
        frame_.resume();
        // true: the child suspended first and will continue us (final_awaiter).
        return !frame_.promise().handoff_.exchange(true, std::memory_order_acq_rel);
      }
      T await_resume() const { return frame_.promise().take(); }
    };
    return awaiter{frame_};
  }
  /// Runs the task inline and gives its result, for a named task (`co_await t`);
  /// as the rvalue form, with the same preconditions.
  auto operator co_await() & noexcept { return std::move(*this).operator co_await(); }

private:
  friend promise_type;
  friend struct detail::access;
  std::coroutine_handle<promise_type> release() noexcept { return std::exchange(frame_, {}); }
  explicit task(std::coroutine_handle<promise_type> frame) noexcept : frame_(frame) {}
  std::coroutine_handle<promise_type> frame_;
};

template <class T>
task<T> detail::task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise>::from_promise(*this));
}

inline task<void> detail::task_promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<task_promise>::from_promise(*this));
}

}  // namespace weft

// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Starting work on the current runtime: `spawn` for async tasks,
/// `spawn_blocking` for synchronous closures, and `yield_now`.

#include <weft/join_error.hpp>
#include <weft/join_handle.hpp>
#include <weft/runtime.hpp>
#include <weft/task.hpp>

#include <coroutine>
#include <source_location>

namespace weft {

/// Starts `t` on the current runtime's async workers.
///
/// The task is polled by one worker at a time and may move between workers
/// at suspension points. A task aborted before its first poll never runs.
///
/// Errors: weft::no_runtime outside a runtime. After shutdown the handle
/// yields a cancelled join_error.
///
/// Example:
///     auto h = weft::spawn(fetch(id));
///     auto value = co_await h;
template <class T>
join_handle<T> spawn(task<T> t, std::source_location where = std::source_location::current()) {
  return detail::spawn_task(detail::current_core(), std::move(t), where);
}

/// Runs the synchronous closure `f` on the current runtime's blocking pool
/// and gives a handle to await its result, so that async workers keep
/// polling timers, sockets and other tasks meanwhile.
///
/// `f` is moved (or copied) into the runtime and must be callable as `f()`
/// or as `f(std::stop_token)` — the second form is *stop-aware* and is
/// preferred when both work. R is what `f` returns, decayed. One heap
/// allocation holds the closure, its result and the join state (a
/// stop-aware closure adds std::stop_source's shared state).
///
/// Pool: an idle blocking thread takes the job; otherwise a new thread is
/// started (after at most about 1 ms in which a busy one may come free),
/// up to max_blocking_threads; at the cap, jobs wait in FIFO order.
///
/// Preconditions: `f` must not return an awaitable and must own what it
/// uses (both checked at compile time with a message saying what to do).
/// Capturing by reference compiles but dangles if the awaiting frame is
/// destroyed first: capture by value, or use run_blocking (below).
///
/// Cancellation: see join_handle::abort() and request_stop(). A closure that
/// has started always runs to completion.
///
/// Errors: weft::no_runtime outside a runtime. An exception thrown by `f`
/// is rethrown by `co_await h` (and is `is_panic()` in `h.join()`); if no
/// blocking thread exists and the OS refuses to start one, the handle yields
/// a join_error whose payload is the std::system_error. After shutdown the
/// handle yields a cancelled join_error.
///
/// Example:
///     auto h = weft::spawn_blocking([path = std::move(path)] { return read_file(path); });
///     std::expected<std::string, join_error> text = co_await h.join();
///
/// Compilers: g++ (12, Debian 12's default; GCC PR 100611) destroys a
/// capturing lambda temporary inside a co_await expression twice, so with g++
/// name the handle first (`auto h = spawn_blocking(...); co_await h;`).
/// clang 19 (with libstdc++ or libc++) handles
/// `co_await weft::spawn_blocking([x] { ... })` correctly
/// (tests/unit/co_await_temporary_test.cpp).
///
/// spawn_blocking or run_blocking (weft/combinators.hpp)?
/// * spawn_blocking starts work that owns its inputs and gives a handle: await
///   it later, race it, detach it, or abort it (a running closure is not
///   interrupted, and the awaiting frame may go away meanwhile — hence the
///   rule that the closure owns what it uses).
/// * run_blocking(f) is a call: it is awaited at once, and `f` may borrow the
///   caller's locals by reference, because the awaiting frame is not
///   destroyed while `f` runs (an abort or shutdown waits for `f` to
///   return, requesting stop if it is stop-aware). Choose it to run blocking
///   code on data the task holds — a buffer, a parser, a file object —
///   without copying it in. Its price: cancelling the task takes as long as
///   `f` takes to return.
template <class F>
auto spawn_blocking(F&& f, std::source_location where = std::source_location::current()) {
  return detail::spawn_blocking_on(detail::current_core(), std::forward<F>(f), where);
}

namespace detail {

/// Reschedules the current task behind the work already queued.
struct yield_awaiter {
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> self) const noexcept {
    task_header* task = task_header::current();
    if (!task) return false;   // not in a task: nothing to yield to
    task->prepare_suspend(self).wake();
    return true;
  }
  void await_resume() const noexcept {}
};

}  // namespace detail

/// Lets the other tasks queued on this worker run, then continues.
///
/// Resumes on: a worker of the same runtime, after the tasks queued before it.
inline task<void> yield_now() { co_await detail::yield_awaiter{}; }

}  // namespace weft

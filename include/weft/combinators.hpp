// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Structured concurrency and cancellation: `when_all` and `when_any` (as
/// Tokio's `join!` and `select!`), `cancellation_token`, `task_tracker`,
/// `abort_on_drop` (declared with join_handle) and the scoped `run_blocking`.
///
/// Cancellation in weft is destroying a suspended frame (DESIGN §2): the
/// destructors of the awaiters deregister from timers, channels and I/O, and
/// weft's operations are cancel safe — a cancelled recv consumes no
/// message. The combinators build on that: an operation that loses is
/// destroyed, never left running.

#include <weft/detail/awaitable.hpp>
#include <weft/detail/blocking_task.hpp>
#include <weft/detail/borrow_job.hpp>
#include <weft/detail/op_set.hpp>
#include <weft/join_handle.hpp>
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/task.hpp>

#include <cstddef>
#include <memory>
#include <source_location>
#include <stdexcept>
#include <stop_token>
#include <tuple>
#include <utility>
#include <variant>

namespace weft {

/// Runs every operation concurrently and gives all their results, in
/// argument order (as Tokio's `join!`).
///
/// Operations are anything `co_await` accepts: tasks, join handles,
/// `h.join()`, `sleep(...)`, `rx.recv()`, `n.notified()`... A void
/// operation gives std::monostate. They run inline in the awaiting task —
/// interleaved on its thread at their suspension points, never spawned —
/// each in a coroutine frame of its own (a task operand's own frame).
///
/// Resumes on: the thread that polls the awaiting task (a worker).
/// Cancellation: destroying the awaiting frame (abort, timeout, a losing
/// when_any) destroys every operation's frame. If an operation throws, the
/// others are cancelled and released — frames destroyed; a run_blocking
/// among them is asked to stop and waited for — then the exception is
/// rethrown.
/// Errors: the first exception (in time) thrown by an operation;
/// std::logic_error if awaited outside a weft task.
///
/// Example:
///     auto [user, posts] = co_await weft::when_all(load_user(id), load_posts(id));
template <awaitable... A>
[[nodiscard]] task<std::tuple<detail::op_result_t<A>...>> when_all(A... ops) {
  if constexpr (sizeof...(A) == 0) {
    co_return std::tuple<>{};
  } else {
    detail::op_set<A...> set(ops...);
    while (!set.step_all()) co_await set.wait();
    if (set.failed() != set.none) {
      while (set.cancel_except(set.failed())) co_await set.wait();
      set.rethrow(set.failed());
    }
    co_return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return std::tuple<detail::op_result_t<A>...>(set.template take<I>()...);
    }(std::index_sequence_for<A...>{});
  }
}

/// Completes with the first operation to finish and cancels the others
/// (as Tokio's `select!`); `index()` of the variant says which finished.
///
/// The winner's value is alternative i (std::monostate for a void
/// operation); if the winner threw, its exception is rethrown. On a tie —
/// several operations ready at the same poll — the earlier argument wins.
/// The losers are cancelled and released before when_any returns: a task's
/// frame is destroyed, a losing join_handle is detached (as when dropped), a
/// losing abort_on_drop aborts its task (which ends at its next suspension
/// point, not necessarily before when_any returns), and a losing
/// run_blocking is asked to stop and waited for.
///
/// Operations run inline in the awaiting task, one at a time, so a loser
/// never completes behind the winner's back: `when_any(rx.recv(), sleep(d))`
/// that times out has consumed no message.
///
/// Resumes on: the thread that polls the awaiting task (a worker).
/// Cancellation: destroying the awaiting frame destroys every operation.
/// Errors: what the winner threw; std::logic_error if awaited outside a
/// weft task. `when_any()` with no operation does not compile.
///
/// Example:
///     auto r = co_await weft::when_any(rx.recv(), weft::sleep(100ms));
///     if (r.index() == 0) handle(std::get<0>(r));   // std::optional<T>
///     else log("idle");
template <awaitable... A>
  requires(sizeof...(A) > 0)
[[nodiscard]] task<std::variant<detail::op_result_t<A>...>> when_any(A... ops) {
  detail::op_set<A...> set(ops...);
  std::size_t winner;
  while ((winner = set.step_any()) == set.none) co_await set.wait();
  while (set.cancel_except(winner)) co_await set.wait();
  co_return set.template take_variant<std::variant<detail::op_result_t<A>...>>(winner);
}

/// when_any() with no operation would never complete: a compile error.
template <class... A>
  requires(sizeof...(A) == 0)
void when_any(A...) {
  static_assert(sizeof...(A) > 0, "weft::when_any needs at least one operation: with none it could never complete");
}

namespace detail {
class cancellation_state;
class tracker_state;

/// Counts one task in a task_tracker for as long as it lives.
class tracker_ticket {
public:
  explicit tracker_ticket(std::shared_ptr<tracker_state> state) noexcept;
  tracker_ticket(const tracker_ticket&) = delete;
  tracker_ticket& operator=(const tracker_ticket&) = delete;
  tracker_ticket(tracker_ticket&& other) noexcept = default;
  tracker_ticket& operator=(tracker_ticket&&) = delete;
  ~tracker_ticket();

private:
  std::shared_ptr<tracker_state> state_;
};

template <class T>
task<T> tracked(task<T> t, tracker_ticket) {
  co_return co_await std::move(t);
}
}  // namespace detail

/// A cancellation signal shared by any number of tasks and threads, with
/// children (as tokio_util's CancellationToken).
///
/// Copies share one state. A child is cancelled with its parent, never the
/// reverse; a child made after its parent was cancelled starts cancelled.
/// Needs no runtime: cancel() and is_cancelled() work on any thread.
///
/// Thread safety: every member may be called from any thread at once.
///
/// Example:
///     weft::cancellation_token stop;
///     co_await weft::when_any(stop.cancelled(), serve(listener));
class cancellation_token {
public:
  /// A new root token, not cancelled.
  cancellation_token();

  /// Cancels this token and every child, once (later calls do nothing):
  /// wakes every cancelled() waiter and requests stop on stop_token().
  /// Runs the std::stop_callbacks registered on stop_token() on this thread.
  void cancel() noexcept;
  /// True once this token (through any copy) or an ancestor was cancelled.
  bool is_cancelled() const noexcept;

  /// A new token cancelled with this one (not the reverse).
  [[nodiscard]] cancellation_token child() const;

  /// Completes when the token is cancelled, at once if it already is.
  ///
  /// Resumes on: a worker of the awaiting task's runtime, woken by cancel().
  /// Cancellation: destroying the awaiting frame withdraws the waiter.
  /// Errors: std::logic_error if awaited outside a weft task.
  [[nodiscard]] task<void> cancelled() const;

  /// stop_requested() once cancelled: capture it in a blocking closure or
  /// hang a std::stop_callback on it.
  std::stop_token stop_token() const noexcept;

private:
  explicit cancellation_token(std::shared_ptr<detail::cancellation_state> state) noexcept;
  std::shared_ptr<detail::cancellation_state> state_;
};

/// Counts tasks, for graceful shutdown: spawn through it, close() it, then
/// `co_await wait()` until every one has finished (as tokio_util's
/// TaskTracker). It keeps no results: the join handles still give them.
///
/// Copies share one tracker. A task counts from spawn until its frame is
/// destroyed (finished or cancelled), whether or not its handle was dropped.
///
/// Thread safety: every member may be called from any thread at once.
///
/// Example:
///     weft::task_tracker tracker;
///     tracker.spawn(handle(std::move(conn)));   // for each connection
///     tracker.close();
///     co_await tracker.wait();
class task_tracker {
public:
  /// Open and empty.
  task_tracker();

  /// Spawns `t` on the current runtime, counted until it finishes. Allowed
  /// after close() too (the count goes up again).
  /// Errors: weft::no_runtime outside a runtime.
  template <class T>
  join_handle<T> spawn(task<T> t, std::source_location where = std::source_location::current()) {
    return weft::spawn(detail::tracked(std::move(t), detail::tracker_ticket(state_)), where);
  }

  /// Lets wait() finish once the tracker is empty.
  void close() noexcept;
  /// Undoes close().
  void reopen() noexcept;
  /// True between close() and reopen().
  bool is_closed() const noexcept;

  /// Completes once the tracker is closed and empty (at once if it is).
  ///
  /// Resumes on: a worker of the awaiting task's runtime.
  /// Cancellation: destroying the awaiting frame withdraws the waiter.
  /// Errors: std::logic_error if awaited outside a weft task.
  [[nodiscard]] task<void> wait() const;

  /// Tasks spawned through the tracker that have not finished.
  std::size_t size() const noexcept;

private:
  std::shared_ptr<detail::tracker_state> state_;
};

/// Runs the synchronous closure `f` on the blocking pool, like
/// spawn_blocking, but scoped: `f` may capture the caller's locals by
/// reference, because the awaiting frame is not destroyed while `f` runs.
///
/// `f` is callable as `f()` or as `f(std::stop_token)` (stop-aware,
/// preferred when both work) and must be synchronous (checked at compile
/// time); unlike spawn_blocking it need not own its inputs. R is what `f`
/// returns, decayed. Use spawn_blocking to start work and await it later
/// or not at all; use run_blocking to call blocking code on data you hold
/// (see spawn.hpp).
///
/// Resumes on: a worker of the current runtime, after `f` has returned.
/// Cancellation: if the awaiting task is aborted, its runtime shuts down or
/// a when_any lets it lose while `f` runs, stop is requested (stop-aware
/// `f`), the task never continues past this co_await, and its frame is
/// destroyed only after `f` returns — on the pool thread, if the runtime's
/// shutdown (shutdown_timeout, shutdown_background) returned first. If `f`
/// has not started, it never runs and the task is cancelled at once.
/// Errors: rethrows what `f` throws; weft::no_runtime outside a runtime;
/// std::logic_error outside a weft task; a join_error (cancelled) if the
/// pool refused the job (after shutdown).
///
/// Compilers: g++ 12 destroys a lambda written inside the co_await twice
/// (GCC PR 100611, see spawn.hpp): harmless for one that captures by
/// reference, as here; name a closure that owns captured values
/// (`auto f = [s = std::move(s)] { ... }; co_await weft::run_blocking(std::move(f));`).
///
/// Example:
///     std::vector<std::byte> buffer(1 << 20);
///     std::size_t n = co_await weft::run_blocking([&] { return file.read(buffer); });
template <class F>
[[nodiscard]] auto run_blocking(F f, std::source_location where = std::source_location::current())
    -> task<detail::blocking_result_t<F>> {
  static_assert(detail::is_blocking_callable<F>,
                "weft::run_blocking: the closure must be callable as f() or as f(std::stop_token).");
  static_assert(detail::is_synchronous<F>(),
                "weft::run_blocking: the closure must be synchronous, but it returns an awaitable (a "
                "weft::task or a coroutine lambda) and cannot co_await on a blocking thread. Move the "
                "async work outside the closure and co_await it in the calling task.");
  struct awaiter {
    F& f;
    std::source_location where;
    detail::borrow_job<F>* job = nullptr;
    awaiter(F& fn, std::source_location at) noexcept : f(fn), where(at) {}
    awaiter(const awaiter&) = delete;
    awaiter& operator=(const awaiter&) = delete;
    ~awaiter() {
      if (job) job->release();
    }
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> self) {
      detail::task_header* task = detail::task_header::current();
      if (!task) throw std::logic_error("weft: run_blocking must be awaited inside a weft task");
      detail::runtime_core& core = detail::current_core();
      job = new detail::borrow_job<F>(f, where);
      job->start(*task, task->prepare_suspend(self));
      detail::submit_blocking(core, *job);
      return true;
    }
    auto await_resume() { return job->take(); }
  };
  co_return co_await awaiter(f, where);
}

}  // namespace weft

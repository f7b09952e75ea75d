// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::runtime`, its builder, and `weft::handle`: start the async workers
/// and the blocking pool, drive a task from outside, and shut down.

#include <weft/detail/blocking_task.hpp>
#include <weft/detail/spawned_task.hpp>
#include <weft/diagnostics.hpp>
#include <weft/join_handle.hpp>
#include <weft/pool_options.hpp>
#include <weft/task.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft {

class blocking_pool;

/// Thrown by handle::current() (and so by spawn/spawn_blocking) outside a
/// runtime: "must be called from the context of a weft runtime".
class no_runtime : public std::logic_error {
public:
  no_runtime();
};

/// A snapshot of a runtime's counters; cheap enough to take every millisecond.
/// Gauges are exact when the runtime is quiescent.
struct runtime_metrics {
  std::size_t workers = 0;                     ///< async worker threads
  std::size_t blocking_threads = 0;            ///< blocking-pool threads alive now
  std::size_t idle_blocking_threads = 0;       ///< of those, waiting for work
  std::size_t blocking_queue_depth = 0;        ///< jobs queued, not yet started
  std::uint64_t spawned_tasks = 0;             ///< async tasks ever spawned
  std::uint64_t spawned_blocking_tasks = 0;    ///< blocking jobs ever spawned
  std::uint64_t blocking_threads_started = 0;  ///< blocking threads ever started
  // Diagnostics (diagnostics.hpp).
  std::uint64_t stalls = 0;                    ///< polls longer than stall_threshold, ever
  std::uint64_t long_blocking_jobs = 0;        ///< blocking closures past long_blocking_threshold, ever
  duration_histogram blocking_queue_wait;      ///< default pool: submit to start of each job
  duration_histogram blocking_run_time;        ///< default pool: how long each closure ran
  duration_histogram poll_time;                ///< every poll; empty unless enable_poll_time_histogram()
  /// Every pool (weft/pool.hpp), sorted by name; "blocking" and "compute"
  /// are always there (compute with 0 threads before its first use).
  std::vector<pool_metrics> pools;
};

/// A blocking closure still running when shutdown_timeout returned.
struct straggler {
  /// The closure's task id (0 if the job has none).
  task_id task = 0;
  std::source_location spawned_at;   ///< the spawn_blocking call site
  std::string pool;                  ///< "blocking", a named pool, or "thread"
  /// How long it had been running when shutdown_timeout returned.
  std::chrono::nanoseconds running_for{};
};

/// What a bounded shutdown left behind.
struct shutdown_report {
  std::size_t blocking_still_running = 0;   ///< 0 = clean
  std::vector<straggler> stragglers;        ///< who they are, so a hung shutdown names its culprit
};

namespace detail {

class runtime_core;
class blocking_job;
// src/blocking: one pool's threads and queue. final: clang-tidy 19 reads this
// declaration without it.
class blocking_pool;   // NOLINT(cppcoreguidelines-virtual-class-destructor)
struct runtime_config;

/// Everything runtime::builder collects.
struct runtime_config {
  bool current_thread = false;
  std::size_t worker_threads = 0;   // 0 = hardware_concurrency()
  std::size_t max_blocking_threads = 512;
  std::chrono::nanoseconds thread_keep_alive = std::chrono::seconds(10);
  std::string thread_name = "weft";
  std::size_t thread_stack_size = 0;   // 0 = the OS default
  std::function<void()> on_thread_start;
  std::function<void()> on_thread_stop;
  // Diagnostics (checked by build(): negative -> std::invalid_argument).
  std::chrono::nanoseconds stall_threshold = std::chrono::milliseconds(10);   // 0 = off
  std::function<void(const stall_report&)> on_stall;                          // null: a line on stderr
  std::chrono::nanoseconds long_blocking_threshold = std::chrono::seconds(10);   // 0 = off
  std::function<void(const long_blocking_report&)> on_long_blocking;          // null: a line on stderr
  bool poll_time_histogram = false;
  // Pools (weft/pool.hpp). "blocking" takes max_blocking_threads and
  // thread_keep_alive above plus the three below; checked by build().
  std::size_t blocking_queue_capacity = pool_options{}.queue_capacity;
  std::chrono::nanoseconds blocking_max_queue_wait{0};
  int blocking_nice = pool_options{}.nice;
  bool blocking_sched_batch = pool_options{}.sched_batch;
  std::size_t compute_threads = 0;   // 0 = hardware_concurrency()
  bool compute_threads_set = false;  // compute_threads(0) is an error, the default is not
  pool_options compute_options{};    // its max_threads and keep_alive are unused
  std::vector<std::pair<std::string, pool_options>> pools;   // the user's, in call order
};

// Non-template entry points into src/runtime.
/// The runtime of the calling thread. Errors: weft::no_runtime.
runtime_core& current_core();
schedule_target& scheduler_of(runtime_core& core) noexcept;
bool spawn_on(runtime_core& core, task_header& task) noexcept;
void submit_blocking(runtime_core& core, blocking_job& job) noexcept;
/// The pool named `name`, or null (weft/pool.hpp).
blocking_pool* find_pool(runtime_core& core, std::string_view name) noexcept;
/// Blocks (or, on the current-thread flavor, drives the runtime) until `root`
/// completes.
void drive_until(runtime_core& core, const task_header& root);
/// std::logic_error on an async worker of any runtime (see handle::block_on).
void check_not_worker(runtime_core& core);

template <class T>
join_handle<T> spawn_task(runtime_core& core, task<T> t, std::source_location where);
template <class F>
auto spawn_blocking_on(runtime_core& core, F&& f, std::source_location where);
template <class F>
consteval bool check_blocking_closure();

}  // namespace detail

/// A cheap, copyable reference to one runtime, usable from any thread.
///
/// Thread safety: every member may be called from any thread.
class handle {
public:
  /// The runtime of the calling thread (a worker, a blocking-pool thread, or
  /// a thread inside block_on).
  /// Errors: weft::no_runtime anywhere else.
  static handle current();
  /// As current(), but gives std::nullopt where current() would throw.
  static std::optional<handle> try_current() noexcept;

  /// Starts `t` on this runtime's workers. After shutdown the handle yields
  /// a cancelled join_error.
  template <class T>
  join_handle<T> spawn(task<T> t, std::source_location where = std::source_location::current()) const;

  /// As weft::spawn_blocking (see spawn.hpp), on this runtime.
  template <class F>
  auto spawn_blocking(F&& f, std::source_location where = std::source_location::current()) const;

  /// Runs `t` to completion from a thread that is not an async worker of
  /// any weft runtime — e.g. main(), a plain thread, or inside a
  /// spawn_blocking closure — and gives its result or rethrows its exception.
  /// Errors: std::logic_error ("cannot block an async worker") on an async
  /// worker of any runtime, this one or another, as Tokio refuses a nested
  /// runtime (co_await the task instead); join_error if the runtime shut
  /// down before `t` finished.
  template <class T>
  T block_on(task<T> t, std::source_location where = std::source_location::current()) const;

  /// A snapshot of this runtime's counters and histograms (runtime_metrics).
  runtime_metrics metrics() const;

  /// Every live async task and blocking job: kind, state, spawn site, age.
  ///
  /// Thread safety: any thread, any time — while tasks are spawned and finish
  /// concurrently, and during or after shutdown (it then lists what is left).
  /// A snapshot: entries may be finished by the time it returns. An async
  /// task that has never suspended is listed while it runs (from its
  /// worker's published poll) or waits in the global run queue, but not while
  /// it waits in a worker's local run queue (those are lock-free and owned
  /// by their worker).
  ///
  /// Example:
  ///     for (const auto& t : weft::handle::current().dump())
  ///       std::println("{} {}:{}", t.id, t.spawned_at.file_name(), t.spawned_at.line());
  std::vector<task_snapshot> dump() const;
  /// The blocking pool `name` ("blocking", "compute" or one declared with
  /// builder::blocking_pool; weft/pool.hpp).
  /// Errors: std::out_of_range naming it if there is no such pool.
  blocking_pool pool(std::string_view name) const;

private:
  friend struct detail::access;
  explicit handle(std::shared_ptr<detail::runtime_core> core) noexcept : core_(std::move(core)) {}

  std::shared_ptr<detail::runtime_core> core_;
};

/// Async worker threads, a time and I/O driver, and the blocking pool.
///
/// Shutdown (the destructor, shutdown_timeout, shutdown_background) happens
/// once: async tasks are cancelled at their suspension points (frames
/// destroyed); queued blocking closures that have not started are cancelled;
/// running stop-aware closures have stop requested. The destructor then waits
/// for every running closure, shutdown_timeout(d) waits at most d, and
/// shutdown_background does not wait; threads left running keep what they
/// own alive and exit when their closure returns.
///
/// Shutdown from inside: shutdown_timeout and shutdown_background called on
/// one of this runtime's own async workers — from one of its tasks, or a
/// task of a current-thread runtime inside block_on — throw
/// std::logic_error, as Tokio panics: shutdown cancels the calling task and
/// joins the worker running it, which neither can do to itself. Signal the
/// thread that owns the runtime instead (a oneshot it awaits, or let its
/// block_on return) and shut down there. From a blocking closure of the
/// runtime, or another runtime's task, shutdown works (it does not wait for
/// the calling closure itself). Destroying the runtime on one of its own
/// workers is a precondition violation (a destructor cannot throw).
///
/// Example:
///     weft::runtime rt;
///     int v = rt.block_on(compute());
class runtime {
public:
  class builder;

  /// Multi-thread runtime with the defaults of builder::multi_thread().
  runtime();
  /// Moves the runtime; the source is left moved-from.
  runtime(runtime&&) noexcept;
  /// Shuts this runtime down as the destructor does (waiting for running
  /// blocking closures), then takes the source's; the source is left moved-from.
  runtime& operator=(runtime&&) noexcept;
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;
  ~runtime();

  /// Drives `t` to completion from outside the runtime; see handle::block_on.
  template <class T>
  T block_on(task<T> t, std::source_location where = std::source_location::current()) {
    return get_handle().block_on(std::move(t), where);
  }

  /// Errors (this and every member but the destructor and assignment):
  /// std::logic_error on a moved-from runtime.
  handle get_handle() const;

  /// Shuts down, waiting at most `timeout` for running blocking closures.
  shutdown_report shutdown_timeout(std::chrono::nanoseconds timeout);
  /// Shuts down without waiting for running blocking closures.
  void shutdown_background();

  /// As handle::metrics().
  runtime_metrics metrics() const;
  /// As handle::dump().
  std::vector<task_snapshot> dump() const;

  /// As handle::pool.
  blocking_pool pool(std::string_view name) const;

private:
  friend struct detail::access;
  explicit runtime(const detail::runtime_config& config, const detail::runtime_seams* seams = nullptr);
  detail::runtime_core& checked_core() const;
  std::shared_ptr<detail::runtime_core> core_;
};

/// Configures a runtime (Tokio's Builder).
///
/// Errors: setters throw std::invalid_argument for values that cannot work
/// (zero workers, a zero blocking cap, a negative keep-alive, an empty thread
/// name, a stack smaller than PTHREAD_STACK_MIN); build() throws
/// std::invalid_argument for more than 4096 worker threads (a fixed bound,
/// the same on every machine: far above any useful count, and low enough
/// that a mistaken SIZE_MAX fails at once instead of allocating without
/// end), and std::system_error if the OS refuses a thread.
class runtime::builder {
public:
  /// Work-stealing async workers, hardware_concurrency() of them by default.
  static builder multi_thread();
  /// Every async task runs on the thread that calls block_on.
  static builder current_thread();

  /// Async worker threads of a multi-thread runtime (default
  /// hardware_concurrency()); a current-thread runtime ignores it.
  builder& worker_threads(std::size_t n);
  /// The most threads the "blocking" pool starts (default 512).
  builder& max_blocking_threads(std::size_t n);               // default 512
  /// How long an idle "blocking"-pool thread waits for a job before it exits
  /// (default 10 s).
  builder& thread_keep_alive(std::chrono::nanoseconds idle);  // default 10 s
  /// The prefix of the runtime's thread names (default "weft"): `prefix-w` for
  /// async workers, `prefix-b` for the "blocking" pool, `prefix-c` for "compute",
  /// `prefix-name` for a named pool, `prefix-wd` for the watchdog. Linux keeps
  /// the first 15 characters.
  builder& thread_name(std::string prefix);                   // default "weft"
  /// Stack size of the async workers and pool threads (default: the OS default).
  builder& thread_stack_size(std::size_t bytes);
  /// Called first on every thread the runtime starts: workers and blocking.
  /// The hooks must not throw: there is no caller to report to on a
  /// thread's start or exit, so an exception ends the process
  /// (std::terminate).
  builder& on_thread_start(std::function<void()> f);
  /// Called last on every thread the runtime starts. Must not throw.
  builder& on_thread_stop(std::function<void()> f);

  // -- diagnostics (weft/diagnostics.hpp) -----------------------------------------
  /// Reports a poll that runs longer than `threshold` (default 10 ms; 0 = off).
  /// Errors: a negative threshold makes build() throw std::invalid_argument.
  builder& stall_threshold(std::chrono::nanoseconds threshold);
  /// Replaces the default stall handler (one line on stderr, at most once a
  /// second per spawn site). It runs on the watchdog thread, never on a
  /// worker, so a slow handler delays only later reports; it must not throw
  /// (one that does is reported once on stderr and ignored).
  builder& on_stall(std::function<void(const stall_report&)> handler);
  /// Reports a blocking closure that runs longer than `threshold` (default
  /// 10 s; 0 = off). Errors: negative -> build() throws std::invalid_argument.
  builder& long_blocking_threshold(std::chrono::nanoseconds threshold);
  /// Replaces the default long-blocking handler; as on_stall.
  builder& on_long_blocking(std::function<void(const long_blocking_report&)> handler);
  /// Fills runtime_metrics::poll_time: costs two clock reads per poll.
  builder& enable_poll_time_histogram();
  /// Declares the blocking pool `name` with `options` (weft/pool.hpp);
  /// "blocking" and "compute" reconfigure those pools. Checked by build():
  /// std::invalid_argument naming the pool and the field.
  builder& blocking_pool(std::string name, pool_options options);
  /// Threads of the "compute" pool (default hardware_concurrency()); 0 is
  /// refused by build().
  builder& compute_threads(std::size_t n);

  /// Checks the configuration and creates the runtime; see the class
  /// doc for what it throws.
  [[nodiscard]] runtime build() const;

private:
  builder() = default;
  detail::runtime_config config_;
};

// ---------------------------------------------------------------------------

template <class T>
join_handle<T> detail::spawn_task(runtime_core& core, task<T> t, std::source_location where) {
  if (!t.is_valid()) throw std::invalid_argument("weft: spawn of an empty task");
  auto* state = new spawned_task<T>(scheduler_of(core), where, access::release(t));
  join_handle<T> h = access::adopt<T>(state);
  if (!spawn_on(core, *state)) state->shutdown();   // after shutdown: cancelled at once
  return h;
}

/// The closure rules of spawn_blocking (and of every pool, weft/pool.hpp),
/// each with the message that says what to do.
template <class F>
consteval bool detail::check_blocking_closure() {
  using Fn = std::decay_t<F>;
  static_assert(owns_inputs<F>,
                "weft::spawn_blocking: the closure must own its inputs. It is moved (or copied) into the "
                "runtime and runs later on another thread, and this closure can be neither moved nor copied. "
                "Capture by value or by move ([path = std::move(path)]) and pass owned data such as "
                "std::string, std::filesystem::path or std::shared_ptr<T>.");
  static_assert(is_blocking_callable<Fn>,
                "weft::spawn_blocking: the closure must be callable as f() or as f(std::stop_token).");
  static_assert(is_synchronous<Fn>(),
                "weft::spawn_blocking: the closure must be synchronous, but it returns an awaitable (a "
                "weft::task or a coroutine lambda) and cannot co_await on a blocking thread. Move the "
                "async work outside the closure: run only the synchronous part in spawn_blocking, then "
                "co_await the join_handle back in async code.");
  return owns_inputs<F> && is_blocking_callable<Fn> && is_synchronous<Fn>();
}

template <class F>
auto detail::spawn_blocking_on(runtime_core& core, F&& f, std::source_location where) {
  using Fn = std::decay_t<F>;
  if constexpr (check_blocking_closure<F>()) {
    using R = blocking_result_t<Fn>;
    auto* job = new blocking_task<R, Fn>(scheduler_of(core), where, std::forward<F>(f));
    join_handle<R> h = access::adopt<R>(job);
    submit_blocking(core, *job);
    return h;
  } else {
    return join_handle<void>{};   // unreachable: a static_assert above has failed
  }
}

template <class F>
auto handle::spawn_blocking(F&& f, std::source_location where) const {
  return detail::spawn_blocking_on(*core_, std::forward<F>(f), where);
}

template <class T>
join_handle<T> handle::spawn(task<T> t, std::source_location where) const {
  return detail::spawn_task(*core_, std::move(t), where);
}

template <class T>
T handle::block_on(task<T> t, std::source_location where) const {
  detail::check_not_worker(*core_);
  join_handle<T> h = spawn(std::move(t), where);
  detail::drive_until(*core_, *detail::access::state(h));
  return h.get();
}

}  // namespace weft

// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Blocking pools as resources (DESIGN §8): named pools with their own
/// threads and bounded queues, admission that suspends the *task* until
/// there is room, a "compute" pool for CPU-bound work with parallel_for, and
/// dedicated OS threads with spawn_thread.
///
/// Every pool has spawn_blocking's semantics (closure rules, abort before
/// start resolves at once, stop-aware closures, two layers of failure,
/// shutdown, one heap allocation per job) and its own threads, cap, queue and
/// keep-alive; threads of one pool never run another pool's jobs.
/// `spawn_blocking(f)` is `handle::current().pool("blocking").spawn(f)`.
///
/// Example:
///     auto rt = weft::runtime::builder::multi_thread()
///                   .blocking_pool("db", {.max_threads = 4, .queue_capacity = 64})
///                   .build();
///     rt.block_on([]() -> weft::task<void> {
///       auto db = weft::handle::current().pool("db");
///       auto h = co_await db.admit([] { return query(); });   // waits for room
///       auto rows = co_await h;
///     }());

#include <weft/pool_options.hpp>
#include <weft/join_error.hpp>
#include <weft/join_handle.hpp>
#include <weft/runtime.hpp>
#include <weft/task.hpp>

#include <algorithm>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <expected>
#include <memory>
#include <mutex>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weft {

namespace detail {

// Non-template entry points into src/ (runtime/pools.cpp).
void submit_to_pool(blocking_pool& pool, blocking_job& job) noexcept;
/// Holds a queue slot for a job about to be made (try_spawn: the closure is
/// moved only once the slot is sure). False: full (or admit waiters queue).
bool reserve_pool_slot(blocking_pool& pool) noexcept;
/// Submits into the slot reserve_pool_slot() held.
void submit_reserved(blocking_pool& pool, blocking_job& job) noexcept;
void release_pool_slot(blocking_pool& pool) noexcept;
bool admit_to_pool(blocking_pool& pool, blocking_job& job, admit_waiter& waiter) noexcept;
bool leave_pool_admission(blocking_pool& pool, admit_waiter& waiter) noexcept;
std::string_view pool_name(const blocking_pool& pool) noexcept;
std::size_t pool_max_threads(const blocking_pool& pool) noexcept;
pool_metrics pool_metrics_of(const blocking_pool& pool);
blocking_pool& compute_pool(runtime_core& core) noexcept;
blocking_pool& dedicated_thread(runtime_core& core, std::string name);

/// The job spawn(f) makes: closure, result and join state in one allocation.
template <class F>
using pool_job_t = blocking_task<blocking_result_t<std::decay_t<F>>, std::decay_t<F>>;

/// (The pool sets the job's queue_ when the job is submitted to it.)
template <class F>
pool_job_t<F>* make_pool_job(runtime_core& core, F&& f, std::source_location where) {
  return new pool_job_t<F>(scheduler_of(core), where, std::forward<F>(f));
}

template <class F>
auto spawn_on_pool(runtime_core& core, blocking_pool& pool, F&& f, std::source_location where) {
  if constexpr (check_blocking_closure<F>()) {
    auto* job = make_pool_job(core, std::forward<F>(f), where);
    join_handle<blocking_result_t<std::decay_t<F>>> h = access::adopt<blocking_result_t<std::decay_t<F>>>(job);
    submit_to_pool(pool, *job);
    return h;
  } else {
    return join_handle<void>{};   // unreachable: a static_assert has failed
  }
}

/// co_await'ed by admit: submits the job when the pool has room, else waits
/// in the pool's FIFO. If the awaiting frame is destroyed while waiting, the
/// job is never submitted; if its turn had come (job submitted) but the task
/// had not resumed, the job is aborted (which passes the slot on).
class admission {
public:
  admission(blocking_pool& pool, blocking_job& job, task_header& state) noexcept
      : pool_(&pool), job_(&job), state_(&state) {}
  admission(const admission&) = delete;
  admission& operator=(const admission&) = delete;
  ~admission() {
    if (!suspended_ || resumed_) return;
    if (leave_pool_admission(*pool_, waiter_)) {
      job_->cancel(nullptr);   // never submitted: drop the pool's part
    } else {
      state_->abort();         // submitted, never handed out: withdraw it
    }
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> caller) {
    task_header* self = task_header::current();
    if (self == nullptr) throw std::logic_error("weft: blocking_pool::admit must be awaited inside a weft task");
    waiter_.wake = self->prepare_suspend(caller);
    if (admit_to_pool(*pool_, *job_, waiter_)) {
      waiter_.wake = waker{};
      return false;            // room at once (or shut down: the handle says cancelled)
    }
    suspended_ = true;
    return true;
  }
  void await_resume() noexcept { resumed_ = true; }

private:
  blocking_pool* pool_;
  blocking_job* job_;
  task_header* state_;
  admit_waiter waiter_;
  bool suspended_ = false;
  bool resumed_ = false;
};

}  // namespace detail

/// A cheap, copyable reference to one blocking pool of a runtime (from
/// handle::pool or runtime::pool); it keeps the runtime's shared state alive.
///
/// Thread safety: every member may be called from any thread.
///
/// Errors: after the runtime's shutdown, every job is cancelled (its handle
/// yields a cancelled join_error), as with spawn_blocking.
class blocking_pool {
public:
  /// "blocking", "compute" or the name it was declared with.
  std::string_view name() const noexcept { return detail::pool_name(*pool_); }

  /// Runs `f` on this pool, as spawn_blocking does on "blocking" (same
  /// closure rules, same compile-time messages; R is what f returns).
  ///
  /// Errors: on a full queue (pool_options::queue_capacity) the handle is
  /// already finished and rejected: `co_await h` throws join_error with
  /// is_rejected(), "task 9 (spawned at db.cpp:40) was rejected by pool
  /// \"db\": queue full". A job still queued max_queue_wait after it was
  /// submitted is rejected then ("…: waited longer than max_queue_wait"),
  /// and its captures are destroyed.
  ///
  /// Cancellation: see join_handle::abort() — a queued job leaves the queue
  /// at once and frees its slot.
  ///
  /// Example:
  ///     auto h = rt.pool("files").spawn([path] { return read_file(path); });
  template <class F>
  auto spawn(F&& f, std::source_location where = std::source_location::current()) const {
    return detail::spawn_on_pool(core(), *pool_, std::forward<F>(f), where);
  }

  /// Suspends the calling task (never a thread) until the queue has room,
  /// in FIFO order with the other admit callers, then submits `f` and gives
  /// its handle.
  ///
  /// Resumes on: a worker of the awaiting task's runtime.
  ///
  /// Cancellation: cancel-safe. A waiter cancelled (aborted, timed out,
  /// shut down) before its turn submits nothing — `f`'s captures are
  /// destroyed — and its turn passes to the next waiter; one cancelled after
  /// its job was submitted but before it resumed aborts that job.
  ///
  /// Errors: std::logic_error if not awaited inside a weft task. Past
  /// shutdown the handle yields a cancelled join_error. A job admitted and
  /// then queued longer than max_queue_wait is rejected as with spawn.
  ///
  /// Example:
  ///     auto job = [id] { return load(id); };
  ///     auto h = co_await db.admit(std::move(job));   // g++ 12: name the closure
  ///     auto row = co_await h;                       // (see spawn_blocking, "Compilers")
  template <class F>
  auto admit(F f, std::source_location where = std::source_location::current()) const {
    static_assert(detail::check_blocking_closure<F>());
    using R = detail::blocking_result_t<F>;
    return admit_job<R, F>(*this, std::move(f), where);
  }

  /// As spawn, but on a full queue returns `pool_full` and leaves `f`
  /// untouched (not moved from), so that the caller can retry or fall back.
  ///
  /// Example:
  ///     auto job = [req] { return handle(req); };
  ///     if (auto h = pool.try_spawn(job)) co_await *h; else reply_busy();
  template <class F>
  auto try_spawn(F&& f, std::source_location where = std::source_location::current()) const {
    static_assert(detail::check_blocking_closure<F>());
    using R = detail::blocking_result_t<std::decay_t<F>>;
    using result = std::expected<join_handle<R>, pool_full>;
    if (!detail::reserve_pool_slot(*pool_)) return result(std::unexpected(pool_full{}));
    detail::pool_job_t<F>* job = nullptr;
    try {
      job = detail::make_pool_job(core(), std::forward<F>(f), where);
    } catch (...) {
      detail::release_pool_slot(*pool_);
      throw;
    }
    join_handle<R> h = detail::access::adopt<R>(job);
    detail::submit_reserved(*pool_, *job);
    return result(std::move(h));
  }

  /// A snapshot of this pool's gauges, counters and histograms.
  pool_metrics metrics() const { return detail::pool_metrics_of(*pool_); }

private:
  friend struct detail::access;   // made by handle::pool
  blocking_pool(std::shared_ptr<detail::runtime_core> core, detail::blocking_pool* pool) noexcept
      : core_(std::move(core)), pool_(pool) {}

  detail::runtime_core& core() const noexcept { return *core_; }

  // A coroutine of its own with the pool copied into its frame: the
  // blocking_pool admit() was called on may be gone before it resumes.
  template <class R, class F>
  static task<join_handle<R>> admit_job(blocking_pool self, F f, std::source_location where) {
    auto* job = detail::make_pool_job(self.core(), std::move(f), where);
    join_handle<R> h = detail::access::adopt<R>(job);
    detail::admission admitted(*self.pool_, *job, *job);
    co_await admitted;
    co_return h;
  }

  std::shared_ptr<detail::runtime_core> core_;
  detail::blocking_pool* pool_;
};

/// Runs the CPU-bound closure `f` on the current runtime's "compute" pool:
/// exactly compute_threads threads (default hardware_concurrency()),
/// started on first use and kept, so that parallel work never
/// oversubscribes the cores. Same rules and errors as spawn_blocking.
///
/// Example:
///     auto h = weft::spawn_compute([data] { return sha256(data); });   // g++ 12: name the
///     auto digest = co_await h;                                       // handle (spawn_blocking)
template <class F>
auto spawn_compute(F&& f, std::source_location where = std::source_location::current()) {
  detail::runtime_core& core = detail::current_core();
  return detail::spawn_on_pool(core, detail::compute_pool(core), std::forward<F>(f), where);
}

/// Calls `f(i)` for every i in [0, n) on the "compute" pool and suspends the
/// caller until all calls have returned. [0, n) is cut into chunks (about
/// eight per compute thread) that the pool's threads take in turn, so that
/// every core stays busy while per-index overhead stays small.
///
/// Thread safety: `f` is called concurrently from several threads.
/// Resumes on: a worker of the caller's runtime.
/// Cancellation: if the caller is cancelled, no further chunk starts;
/// chunks already running finish in the background.
/// Errors: the first exception `f` throws is rethrown after every chunk has
/// stopped (the others stop at their next index); weft::no_runtime outside a
/// runtime.
///
/// Example:
///     co_await weft::parallel_for(pixels.size(), [&](std::size_t i) { pixels[i] = shade(i); });
template <class F>
task<void> parallel_for(std::size_t n, F f) {
  if (n == 0) co_return;
  struct shared {
    F body;
    std::size_t n, chunk, chunks;
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex mutex;              // guards error
    std::exception_ptr error;
  };
  detail::runtime_core& core = detail::current_core();
  detail::blocking_pool& compute = detail::compute_pool(core);
  const std::size_t threads = std::max<std::size_t>(1, detail::pool_max_threads(compute));
  const std::size_t chunks = std::min(n, threads * 8);
  auto state = std::make_shared<shared>(std::move(f), n, (n + chunks - 1) / chunks, 0);
  state->chunks = (n + state->chunk - 1) / state->chunk;
  // Stops handing out chunks if this frame is destroyed (cancelled).
  struct stop_on_exit {
    shared* s;
    explicit stop_on_exit(shared* state) noexcept : s(state) {}
    stop_on_exit(const stop_on_exit&) = delete;
    stop_on_exit& operator=(const stop_on_exit&) = delete;
    // relaxed: only a hint to stop taking chunks; no data is published through it.
    ~stop_on_exit() { s->stop.store(true, std::memory_order_relaxed); }
  } guard{state.get()};
  std::vector<join_handle<void>> runners;
  const std::size_t num_runners = std::min(threads, state->chunks);
  runners.reserve(num_runners);
  for (std::size_t r = 0; r < num_runners; ++r) {
    runners.push_back(detail::spawn_on_pool(
        core, compute,
        [state] {
      // relaxed: chunk indices need only be unique; the error is under the mutex.
          while (!state->stop.load(std::memory_order_relaxed)) {
            const std::size_t c = state->next.fetch_add(1, std::memory_order_relaxed);
            if (c >= state->chunks) break;
            const std::size_t end = std::min(state->n, (c + 1) * state->chunk);
            try {
              for (std::size_t i = c * state->chunk; i < end; ++i) state->body(i);
            } catch (...) {
              std::lock_guard lock(state->mutex);
              if (!state->error) state->error = std::current_exception();
              state->stop.store(true, std::memory_order_relaxed);   // relaxed: a hint, as above
            }
          }
        },
        std::source_location::current()));
  }
  for (auto& runner : runners) co_await runner.join();   // each chunk has stopped
  std::lock_guard lock(state->mutex);
  if (state->error) std::rethrow_exception(state->error);
}

/// Runs `f` on a new, dedicated OS thread named `name` (Linux keeps 15
/// characters), for a worker that runs as long as the program. It counts in
/// no pool, runs in the runtime's context (handle::current() works;
/// on_thread_start/on_thread_stop run), may be stop-aware (f(std::stop_token)),
/// and is joined by shutdown like a blocking closure (stop requested first;
/// counted in shutdown_report::blocking_still_running if still running).
/// Unlike a pool's queued job, `f` is never dropped unstarted: if shutdown
/// begins before the new thread takes it, it still runs, with stop requested.
///
/// Errors: as spawn_blocking; after shutdown the handle yields cancelled.
///
/// Example:
///     auto h = weft::spawn_thread("ingest", [](std::stop_token st) {
///       while (!st.stop_requested()) pump();
///     });
template <class F>
auto spawn_thread(std::string name, F&& f, std::source_location where = std::source_location::current()) {
  detail::runtime_core& core = detail::current_core();
  return detail::spawn_on_pool(core, detail::dedicated_thread(core, std::move(name)), std::forward<F>(f), where);
}

}  // namespace weft

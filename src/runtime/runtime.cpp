// SPDX-License-Identifier: MIT
// runtime, runtime::builder and handle: validation and forwarding to
// runtime_core.
#include "runtime/runtime_core.hpp"

#include <weft/detail/deadline.hpp>
#include <weft/pool.hpp>
#include <weft/runtime.hpp>

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string_view>
#include <vector>
#include <pthread.h>
#include <sys/prctl.h>
#include <thread>

namespace weft {

no_runtime::no_runtime() : std::logic_error("must be called from the context of a weft runtime") {}

// -- detail entry points -----------------------------------------------------------

namespace detail {

runtime_core& current_core() {
  runtime_core* core = runtime_core::current();
  if (!core) throw no_runtime();
  return *core;
}

schedule_target& scheduler_of(runtime_core& core) noexcept { return core.tasks(); }

bool spawn_on(runtime_core& core, task_header& task) noexcept { return core.tasks().spawn(task); }

void submit_blocking(runtime_core& core, blocking_job& job) noexcept { core.pool().submit(job); }

blocking_pool* find_pool(runtime_core& core, std::string_view name) noexcept { return core.find_pool(name); }

void check_not_worker(runtime_core&) { check_may_block(); }

void check_may_block() {
  // Any runtime's worker, as Tokio refuses a nested runtime: blocking one
  // stalls every task queued behind it, and on its own runtime deadlocks.
  if (scheduler::on_any_worker())
    throw std::logic_error("weft: cannot block an async worker: co_await the task instead");
}

void drive_until(runtime_core& core, const task_header& root) {
  runtime_core::enter_scope scope(&core);
  if (!core.is_current_thread_flavor()) return;   // workers run it; the caller waits on the handle
  // This thread may sleep in the driver: keep timers precise while it does
  // (limits.md §5), and leave the caller's timer slack as it was.
  struct precise_timers {
    long previous = prctl(PR_GET_TIMERSLACK, 0UL, 0UL, 0UL, 0UL);
    precise_timers() { prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); }
    precise_timers(const precise_timers&) = delete;
    precise_timers& operator=(const precise_timers&) = delete;
    ~precise_timers() { prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(previous), 0UL, 0UL, 0UL); }
  } slack;
  // Current-thread flavor: whoever holds the core drives it. If another
  // thread does, wait for our task, taking over if that thread lets go.
  auto pause = std::chrono::microseconds(20);
  while (!root.is_complete()) {
    if (core.tasks().try_drive_until(root)) return;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
}

}  // namespace detail

// -- access (weft/detail/access.hpp) ------------------------------------------------

handle detail::access::make_handle(std::shared_ptr<runtime_core> core) noexcept { return handle(std::move(core)); }

detail::runtime_core& detail::access::core(const handle& h) noexcept { return *h.core_; }

runtime detail::access::make_runtime(const runtime_config& config, const runtime_seams& seams) {
  return runtime(config, &seams);
}

weft::blocking_pool detail::access::make_pool(std::shared_ptr<runtime_core> core, blocking_pool* pool) noexcept {
  return weft::blocking_pool(std::move(core), pool);
}

// -- handle --------------------------------------------------------------------------

handle handle::current() {
  detail::runtime_core* core = detail::runtime_core::current();
  if (!core) throw no_runtime();
  return handle(core->shared_from_this());
}

std::optional<handle> handle::try_current() noexcept {
  detail::runtime_core* core = detail::runtime_core::current();
  if (!core) return std::nullopt;
  return handle(core->shared_from_this());
}

runtime_metrics handle::metrics() const { return core_->metrics(); }

std::vector<task_snapshot> handle::dump() const { return core_->dump(); }

// -- runtime ---------------------------------------------------------------------------

runtime::runtime() : runtime(builder::multi_thread().build()) {}
runtime::runtime(const detail::runtime_config& config, const detail::runtime_seams* seams)
    : core_(detail::runtime_core::create(config, seams ? *seams : detail::runtime_seams{})) {}
runtime::runtime(runtime&&) noexcept = default;
runtime& runtime::operator=(runtime&& other) noexcept {
  if (this != &other) {
    if (core_) core_->shutdown(std::nullopt);
    core_ = std::move(other.core_);
  }
  return *this;
}
runtime::~runtime() {
  if (core_) core_->shutdown(std::nullopt);
}

namespace {
/// Shutting a runtime down cancels its tasks and joins its workers, which
/// the calling task and worker cannot do to themselves (it used to hang:
/// the caller was never cancelled and the worker joined itself).
void check_not_own_task(detail::runtime_core& core) {
  if (core.tasks().is_worker_thread())
    throw std::logic_error(
        "weft: cannot shut a runtime down from one of its own tasks; signal the thread that owns the runtime "
        "(e.g. with a oneshot channel it awaits) and shut down there");
}
}  // namespace

shutdown_report runtime::shutdown_timeout(std::chrono::nanoseconds timeout) {
  check_not_own_task(checked_core());
  return core_->shutdown(detail::deadline_after(timeout));
}

void runtime::shutdown_background() {
  check_not_own_task(checked_core());
  core_->shutdown(std::chrono::steady_clock::now());
}

runtime_metrics runtime::metrics() const { return checked_core().metrics(); }

handle runtime::get_handle() const {
  checked_core();
  return detail::access::make_handle(core_);
}

detail::runtime_core& runtime::checked_core() const {
  if (!core_) throw std::logic_error("weft: runtime used after it was moved from");
  return *core_;
}

std::vector<task_snapshot> runtime::dump() const { return checked_core().dump(); }

// -- builder ----------------------------------------------------------------------------

runtime::builder runtime::builder::multi_thread() { return builder(); }

runtime::builder runtime::builder::current_thread() {
  builder b;
  b.config_.current_thread = true;
  return b;
}

runtime::builder& runtime::builder::worker_threads(std::size_t n) {
  if (n == 0) throw std::invalid_argument("weft: worker_threads must be at least 1");
  config_.worker_threads = n;
  return *this;
}

runtime::builder& runtime::builder::max_blocking_threads(std::size_t n) {
  if (n == 0) throw std::invalid_argument("weft: max_blocking_threads must be at least 1");
  config_.max_blocking_threads = n;
  return *this;
}

runtime::builder& runtime::builder::thread_keep_alive(std::chrono::nanoseconds idle) {
  if (idle < std::chrono::nanoseconds::zero())
    throw std::invalid_argument("weft: thread_keep_alive must not be negative");
  config_.thread_keep_alive = idle;
  return *this;
}

runtime::builder& runtime::builder::thread_name(std::string prefix) {
  if (prefix.empty()) throw std::invalid_argument("weft: thread_name must not be empty");
  config_.thread_name = std::move(prefix);
  return *this;
}

runtime::builder& runtime::builder::thread_stack_size(std::size_t bytes) {
  if (bytes < static_cast<std::size_t>(PTHREAD_STACK_MIN))
    throw std::invalid_argument("weft: thread_stack_size is below PTHREAD_STACK_MIN");
  config_.thread_stack_size = bytes;
  return *this;
}

runtime::builder& runtime::builder::on_thread_start(std::function<void()> f) {
  config_.on_thread_start = std::move(f);
  return *this;
}

runtime::builder& runtime::builder::on_thread_stop(std::function<void()> f) {
  config_.on_thread_stop = std::move(f);
  return *this;
}

// -- builder: diagnostics ------------------------------------------------------------------
// Thresholds are checked by build() (DESIGN §6: a negative one is
// std::invalid_argument at build()).

runtime::builder& runtime::builder::stall_threshold(std::chrono::nanoseconds threshold) {
  config_.stall_threshold = threshold;
  return *this;
}

runtime::builder& runtime::builder::on_stall(std::function<void(const stall_report&)> handler) {
  config_.on_stall = std::move(handler);
  return *this;
}

runtime::builder& runtime::builder::long_blocking_threshold(std::chrono::nanoseconds threshold) {
  config_.long_blocking_threshold = threshold;
  return *this;
}

runtime::builder& runtime::builder::on_long_blocking(std::function<void(const long_blocking_report&)> handler) {
  config_.on_long_blocking = std::move(handler);
  return *this;
}

runtime::builder& runtime::builder::enable_poll_time_histogram() {
  config_.poll_time_histogram = true;
  return *this;
}

// -- pools (weft/pool.hpp) ---------------------------------------------------------------

runtime::builder& runtime::builder::blocking_pool(std::string name, pool_options options) {
  // Later calls win; "blocking" and "compute" share their settings with
  // max_blocking_threads / thread_keep_alive and compute_threads.
  if (name == "blocking") {
    config_.max_blocking_threads = options.max_threads;
    config_.thread_keep_alive = options.keep_alive;
    config_.blocking_queue_capacity = options.queue_capacity;
    config_.blocking_max_queue_wait = options.max_queue_wait;
    config_.blocking_nice = options.nice;
    config_.blocking_sched_batch = options.sched_batch;
  } else if (name == "compute") {
    config_.compute_threads = options.max_threads;
    config_.compute_threads_set = true;
    config_.compute_options = options;
  }
  config_.pools.emplace_back(std::move(name), options);
  return *this;
}

runtime::builder& runtime::builder::compute_threads(std::size_t n) {
  config_.compute_threads = n;
  config_.compute_threads_set = true;
  return *this;
}

namespace {

[[noreturn]] void bad_pool_option(std::string_view pool, std::string_view problem) {
  throw std::invalid_argument("weft: pool \"" + std::string(pool) + "\": " + std::string(problem));
}

void check_pool_options(std::string_view name, const pool_options& options) {
  if (options.max_threads == 0)
    bad_pool_option(name, name == "compute" ? "max_threads (compute_threads) must be > 0" : "max_threads must be > 0");
  if (options.queue_capacity == 0) bad_pool_option(name, "queue_capacity must be > 0");
  if (options.max_queue_wait < std::chrono::nanoseconds::zero())
    bad_pool_option(name, "max_queue_wait must not be negative");
  if (options.keep_alive < std::chrono::nanoseconds::zero()) bad_pool_option(name, "keep_alive must not be negative");
  if (options.nice < 0 || options.nice > 19) bad_pool_option(name, "nice must be from 0 to 19");
}

/// DESIGN §8: options are checked by build(), naming the pool and the field.
void check_pools(const detail::runtime_config& config) {
  std::vector<std::string_view> seen;
  for (const auto& [name, options] : config.pools) {
    if (name.empty()) throw std::invalid_argument("weft: blocking_pool: the pool name must not be empty");
    if (name == "blocking" || name == "compute") continue;  // reserved: checked below, as they end up
    check_pool_options(name, options);
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) bad_pool_option(name, "declared twice");
    seen.push_back(name);
  }
  // The final settings of the two reserved pools (a later max_blocking_threads
  // may have replaced a blocking_pool("blocking", …)).
  check_pool_options("blocking",
                     pool_options{config.max_blocking_threads, config.blocking_queue_capacity,
                                  config.blocking_max_queue_wait, config.thread_keep_alive, config.blocking_nice});
  pool_options compute = config.compute_options;
  compute.max_threads = config.compute_threads_set ? config.compute_threads : 1;
  check_pool_options("compute", compute);
}

}  // namespace

weft::blocking_pool handle::pool(std::string_view name) const {
  detail::blocking_pool* pool = core_->find_pool(name);
  if (pool == nullptr) throw std::out_of_range("weft: no blocking pool named \"" + std::string(name) + "\"");
  return detail::access::make_pool(core_, pool);
}

weft::blocking_pool runtime::pool(std::string_view name) const { return get_handle().pool(name); }

runtime runtime::builder::build() const {
  if (config_.stall_threshold < std::chrono::nanoseconds::zero())
    throw std::invalid_argument("weft: stall_threshold must not be negative (0 turns the stall detector off)");
  if (config_.long_blocking_threshold < std::chrono::nanoseconds::zero())
    throw std::invalid_argument(
        "weft: long_blocking_threshold must not be negative (0 turns long-blocking reports off)");
  check_pools(config_);
  return runtime(config_);
}

}  // namespace weft

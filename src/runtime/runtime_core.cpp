// SPDX-License-Identifier: MIT
// Wiring and shutdown order.
//
// Threads: workers are started by the scheduler and joined by its shutdown;
// blocking threads hold a strong reference to the core for their whole life
// (set in their start hook), so a closure left running past a bounded
// shutdown can still use its handle, and the core is freed by whoever drops
// the last reference — possibly that blocking thread.
//
// The watchdog (diagnostics/watchdog.cpp) starts last and stops first: it
// reads the scheduler's poll slots and the pool's records.
//
// # Shutdown
//   0. the watchdog is stopped and joined;
//   1. the scheduler stops its workers and cancels every async task (frames
//      destroyed; their awaiters deregister);
//   2. the blocking pool cancels queued closures, requests stop on running
//      stop-aware ones, and waits for them until the deadline.
#include "runtime/runtime_core.hpp"

#include "task/task_memory.hpp"

#include <sys/prctl.h>
#include <thread>

namespace weft::detail {

namespace {

thread_local runtime_core* thread_core = nullptr;
// Blocking threads own a reference to their runtime while they live.
thread_local std::shared_ptr<runtime_core> owned_core;

/// Workers sleep in the driver with nanosecond timeouts; the default 50 µs
/// timer slack would add up to 50 µs to every timer (limits.md §5).
void use_precise_timers() noexcept { prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); }

scheduler_config scheduler_config_of(const runtime_config& config, runtime_core* core, activity_signal* activity) {
  scheduler_config out;
  out.current_thread = config.current_thread;
  out.workers = config.current_thread ? 1
                : config.worker_threads ? config.worker_threads
                                        : std::max(1u, std::thread::hardware_concurrency());
  out.thread_name = config.thread_name + "-w";
  out.stack_size = config.thread_stack_size;
  out.publish_polls = config.stall_threshold.count() > 0;
  out.poll_time_histogram = config.poll_time_histogram;
  out.activity = activity;
  out.on_thread_start = [core, user = config.on_thread_start] {
    thread_core = core;
    use_precise_timers();
    if (user) user();
  };
  out.on_thread_stop = [user = config.on_thread_stop] {
    if (user) user();
    thread_core = nullptr;
  };
  return out;
}

}  // namespace

std::shared_ptr<runtime_core> runtime_core::create(const runtime_config& config) {
  std::shared_ptr<runtime_core> core(new runtime_core(config));
  core->start();
  return core;
}

runtime_core::runtime_core(const runtime_config& config)
    : config_(config), scheduler_(scheduler_config_of(config, this, &activity_), &driver_) {}

runtime_core::~runtime_core() { shutdown(std::nullopt); }

void runtime_core::start() {
  blocking_pool_config pool_config;
  pool_config.max_threads = config_.max_blocking_threads;
  pool_config.keep_alive = config_.thread_keep_alive;
  pool_config.thread_name = config_.thread_name + "-b";
  pool_config.stack_size = config_.thread_stack_size;
  pool_config.inject_spawn_failure = config_.inject_thread_spawn_failure;
  pool_config.name = "blocking";
  pool_config.activity = &activity_;
  pool_config.on_thread_start = [weak = weak_from_this(), user = config_.on_thread_start] {
    owned_core = weak.lock();
    thread_core = owned_core.get();
    if (user) user();
  };
  pool_config.on_thread_stop = [user = config_.on_thread_stop] {
    if (user) user();
    thread_core = nullptr;
    owned_core.reset();
  };
  pool_ = blocking_pool::create(std::move(pool_config));
  scheduler_.start();
  start_watchdog();
}

void runtime_core::start_watchdog() {
  if (config_.stall_threshold.count() == 0 && config_.long_blocking_threshold.count() == 0) return;
  watchdog_config wd;
  wd.stall_threshold = config_.stall_threshold;
  wd.long_blocking_threshold = config_.long_blocking_threshold;
  wd.on_stall = config_.on_stall;
  wd.on_long_blocking = config_.on_long_blocking;
  wd.thread_name = config_.thread_name + "-wd";
  watchdog_sources sources;
  for (std::size_t i = 0; i < scheduler_.num_workers(); ++i) sources.workers.push_back(&scheduler_.slot(i));
  sources.num_awake_workers = [this] { return scheduler_.num_awake(); };
  sources.blocking_busy = [this] { return pool_->has_running_jobs(); };
  sources.collect_long_running = [this](std::chrono::nanoseconds threshold, std::vector<long_blocking_report>& out) {
    pool_->collect_long_running(threshold, out);
  };
  watchdog_ = std::make_unique<watchdog>(std::move(wd), std::move(sources), activity_);
  try {
    watchdog_->start();
  } catch (...) {
    shutdown(std::nullopt);
    throw;
  }
}

shutdown_report runtime_core::shutdown(std::optional<std::chrono::steady_clock::time_point> deadline) noexcept {
  if (shut_down_.exchange(true)) return {};
  if (watchdog_) watchdog_->stop();
  scheduler_.shutdown();
  shutdown_report report;
  if (pool_) report.blocking_still_running = pool_->shutdown(deadline, &report.stragglers);
  // The workers have exited (returning what they cached) and every task is
  // gone: return what their late frees left, here and in exited threads' heaps.
  release_task_memory();
  return report;
}

runtime_metrics runtime_core::metrics() const noexcept {
  runtime_metrics m;
  m.workers = scheduler_.num_workers();
  m.spawned_tasks = scheduler_.num_spawned();
  if (pool_) {
    const blocking_pool_metrics pool = pool_->metrics();
    m.blocking_threads = pool.threads;
    m.idle_blocking_threads = pool.idle_threads;
    m.blocking_queue_depth = pool.queue_depth;
    m.spawned_blocking_tasks = pool.spawned_jobs;
    m.blocking_threads_started = pool.threads_started;
    m.long_blocking_jobs = pool.long_blocking_jobs;
    m.blocking_queue_wait = pool.queue_wait;
    m.blocking_run_time = pool.run_time;
  }
  if (watchdog_) m.stalls = watchdog_->num_stalls();
  m.poll_time = scheduler_.poll_time();
  return m;
}

std::vector<task_snapshot> runtime_core::dump() const {
  std::vector<task_snapshot> out;
  scheduler_.dump(out);
  if (pool_) pool_->dump(out);
  return out;
}

std::uint64_t runtime_core::watchdog_wakeups() const noexcept { return watchdog_ ? watchdog_->num_wakeups() : 0; }

runtime_core* runtime_core::current() noexcept { return thread_core; }

time_driver& current_time_driver() { return current_core().timers(); }

runtime_core::enter_scope::enter_scope(runtime_core* core) noexcept
    : previous_(std::exchange(thread_core, core)) {}
runtime_core::enter_scope::~enter_scope() { thread_core = previous_; }

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
// Wiring and shutdown order.
//
// Threads: workers are started by the scheduler and joined by its shutdown;
// blocking threads hold a strong reference to the core for their whole life
// (set in their start hook), so a closure left running past a bounded
// shutdown can still use its handle, and the core is freed by whoever drops
// the last reference — possibly that blocking thread.
//
// # Shutdown
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

scheduler_config scheduler_config_of(const runtime_config& config, runtime_core* core) {
  scheduler_config out;
  out.current_thread = config.current_thread;
  out.workers = config.current_thread ? 1
                : config.worker_threads ? config.worker_threads
                                        : std::max(1u, std::thread::hardware_concurrency());
  out.thread_name = config.thread_name + "-w";
  out.stack_size = config.thread_stack_size;
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
    : config_(config), scheduler_(scheduler_config_of(config, this), &driver_) {}

runtime_core::~runtime_core() { shutdown(std::nullopt); }

void runtime_core::start() {
  blocking_pool_config pool_config;
  pool_config.max_threads = config_.max_blocking_threads;
  pool_config.keep_alive = config_.thread_keep_alive;
  pool_config.thread_name = config_.thread_name + "-b";
  pool_config.stack_size = config_.thread_stack_size;
  pool_config.inject_spawn_failure = config_.inject_thread_spawn_failure;
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
}

shutdown_report runtime_core::shutdown(std::optional<std::chrono::steady_clock::time_point> deadline) noexcept {
  if (shut_down_.exchange(true)) return {};
  scheduler_.shutdown();
  const shutdown_report report{pool_ ? pool_->shutdown(deadline) : 0};
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
  }
  return m;
}

runtime_core* runtime_core::current() noexcept { return thread_core; }

time_driver& current_time_driver() { return current_core().timers(); }

runtime_core::enter_scope::enter_scope(runtime_core* core) noexcept
    : previous_(std::exchange(thread_core, core)) {}
runtime_core::enter_scope::~enter_scope() { thread_core = previous_; }

}  // namespace weft::detail

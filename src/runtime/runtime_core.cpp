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

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <memory>
#include <new>
#include <thread>

namespace weft::detail {

namespace {

thread_local runtime_core* thread_core = nullptr;

// Blocking threads own a reference to their runtime while they live, taken
// by on_thread_start and dropped by on_thread_stop, which every pool thread
// runs as it exits. Raw storage, not a thread_local shared_ptr: registering
// that one's destructor is the thread's first malloc, and a thread's first
// malloc has glibc map it an arena (mmap, munmap, mprotect and their TLB
// shootdowns: ~0.2 ms on this VM) before its first job can start.
class owned_core_slot {
public:
  /// Takes the reference; gives the core.
  runtime_core* hold(std::shared_ptr<runtime_core> core) noexcept {
    return std::construct_at(slot(), std::move(core))->get();
  }
  void drop() noexcept { std::destroy_at(slot()); }

private:
  std::shared_ptr<runtime_core>* slot() noexcept {
    return std::launder(reinterpret_cast<std::shared_ptr<runtime_core>*>(storage_));
  }
  alignas(std::shared_ptr<runtime_core>) unsigned char storage_[sizeof(std::shared_ptr<runtime_core>)];
};
thread_local owned_core_slot owned_core;

/// Workers sleep in the driver with nanosecond timeouts; the default 50 µs
/// timer slack would add up to 50 µs to every timer (limits.md §5).
void use_precise_timers() noexcept { prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); }

scheduler_config scheduler_config_of(const runtime_config& config, runtime_core* core, activity_signal* activity) {
  scheduler_config out;
  out.current_thread = config.current_thread;
  out.workers = config.current_thread   ? 1
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

/// More async workers than this is a mistake (SIZE_MAX used to allocate
/// worker records until memory ran out): a fixed bound, the same on every
/// machine, far above any useful count — workers beyond the cores only
/// take turns on them.
constexpr std::size_t max_worker_threads = 4096;

void check_config(const runtime_config& config) {
  if (config.worker_threads > max_worker_threads)
    throw std::invalid_argument("weft: worker_threads is " + std::to_string(config.worker_threads) +
                                "; at most 4096 are allowed");
}

}  // namespace

std::shared_ptr<runtime_core> runtime_core::create(const runtime_config& config, runtime_seams seams) {
  check_config(config);
  std::shared_ptr<runtime_core> core(new runtime_core(config, std::move(seams)));
  core->start();
  return core;
}

runtime_core::runtime_core(const runtime_config& config, runtime_seams seams)
    : config_(config), seams_(std::move(seams)), scheduler_(scheduler_config_of(config, this, &activity_), &driver_) {}

runtime_core::~runtime_core() { shutdown(std::nullopt); }

blocking_pool_config runtime_core::pool_config(std::string thread_name) {
  blocking_pool_config pool_config;
  pool_config.thread_name = std::move(thread_name);
  pool_config.stack_size = config_.thread_stack_size;
  pool_config.inject_spawn_failure = seams_.inject_thread_spawn_failure;
  pool_config.name = "blocking";
  pool_config.activity = &activity_;
  pool_config.on_thread_start = [weak = weak_from_this(), user = config_.on_thread_start] {
    thread_core = owned_core.hold(weak.lock());
    if (user) user();
  };
  pool_config.on_thread_stop = [user = config_.on_thread_stop] {
    if (user) user();
    thread_core = nullptr;
    owned_core.drop();   // may destroy the runtime's core: the last reference
  };
  return pool_config;
}

namespace {
// "Kept" threads: an idle compute thread waits this long (no overflow in
// steady_clock arithmetic, unlike nanoseconds::max()).
constexpr auto forever = std::chrono::hours(24 * 365 * 100);

/// The nice value of the calling thread (Linux: PRIO_PROCESS with 0 names
/// the calling thread), 0 if it cannot be read.
int this_thread_nice() noexcept {
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, 0);
  return errno != 0 ? 0 : nice;
}

/// The nice value for a pool's threads: `increment` below the workers' `base`.
int nice_below(int base, int increment) noexcept { return std::min(19, base + increment); }
}  // namespace

void runtime_core::start() {
  // The async workers inherit the building thread's nice value; pool threads
  // run pool_options::nice below them.
  workers_nice_ = this_thread_nice();
  blocking_pool_config blocking = pool_config(config_.thread_name + "-b");
  blocking.thread_nice = nice_below(workers_nice_, config_.blocking_nice);
  blocking.sched_batch = config_.blocking_sched_batch;
  blocking.max_threads = config_.max_blocking_threads;
  blocking.keep_alive = config_.thread_keep_alive;
  blocking.queue_capacity = config_.blocking_queue_capacity;
  blocking.max_queue_wait = config_.blocking_max_queue_wait;
  pool_ = blocking_pool::create(std::move(blocking));
  pools_.push_back(pool_);

  blocking_pool_config compute = pool_config(config_.thread_name + "-c");
  compute.name = "compute";
  compute.max_threads =
      config_.compute_threads != 0 ? config_.compute_threads : std::max(1u, std::thread::hardware_concurrency());
  compute.keep_alive = forever;
  compute.start_at_once = true;
  compute.queue_capacity = config_.compute_options.queue_capacity;
  compute.max_queue_wait = config_.compute_options.max_queue_wait;
  compute.thread_nice = nice_below(workers_nice_, config_.compute_options.nice);
  compute.sched_batch = config_.compute_options.sched_batch;
  compute_ = blocking_pool::create(std::move(compute));
  pools_.push_back(compute_);

  for (const auto& [name, options] : config_.pools) {
    if (name == "blocking" || name == "compute") continue;  // folded into the above by the builder
    blocking_pool_config named = pool_config(config_.thread_name + "-" + name);
    named.name = name;
    named.max_threads = options.max_threads;
    named.keep_alive = options.keep_alive;
    named.queue_capacity = options.queue_capacity;
    named.max_queue_wait = options.max_queue_wait;
    named.thread_nice = nice_below(workers_nice_, options.nice);
    named.sched_batch = options.sched_batch;
    pools_.push_back(blocking_pool::create(std::move(named)));
  }
  std::sort(pools_.begin(), pools_.end(), [](const auto& a, const auto& b) { return a->name() < b->name(); });
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
  // Every pool; not spawn_thread's threads, which are meant to run long and
  // are never reported (DESIGN §8).
  sources.blocking_busy = [this] {
    for (const auto& pool : pools_)
      if (pool->has_running_jobs()) return true;
    return false;
  };
  sources.collect_long_running = [this](std::chrono::nanoseconds threshold, std::vector<long_blocking_report>& out) {
    for (const auto& pool : pools_) pool->collect_long_running(threshold, out);
  };
  watchdog_ = std::make_unique<watchdog>(std::move(wd), std::move(sources), activity_);
  try {
    watchdog_->start();
  } catch (...) {
    shutdown(std::nullopt);
    throw;
  }
}

blocking_pool* runtime_core::find_pool(std::string_view name) noexcept {
  for (const auto& pool : pools_) {
    if (pool->name() == name) return pool.get();
  }
  return nullptr;
}

blocking_pool& runtime_core::dedicated_thread(std::string name) {
  blocking_pool_config config = pool_config(std::move(name));
  config.name = "thread";
  config.dedicated = true;
  config.max_threads = 1;
  config.keep_alive = std::chrono::nanoseconds{0};  // its one job done, the thread exits
  config.start_at_once = true;
  config.thread_nice = workers_nice_;  // a dedicated thread is not a pool's: the workers' priority
  config.activity = nullptr;           // nothing for the watchdog to watch (DESIGN §8)
  auto pool = blocking_pool::create(std::move(config));
  std::vector<std::shared_ptr<blocking_pool>> finished;
  {
    std::lock_guard lock(dedicated_mutex_);
    if (dedicated_closed_) return *pool_;  // shut down: the default pool cancels the job
    // Forget the threads that have ended (shut down below, outside the lock,
    // which joins them).
    auto done = std::partition(dedicated_.begin(), dedicated_.end(), [](const auto& p) {
      const blocking_pool_metrics m = p->metrics();
      return m.spawned_jobs == 0 || m.threads != 0 || m.queue_depth != 0;  // not yet used, or busy
    });
    finished.assign(std::make_move_iterator(done), std::make_move_iterator(dedicated_.end()));
    dedicated_.erase(done, dedicated_.end());
    dedicated_.push_back(pool);
  }
  for (const auto& p : finished) p->shutdown(std::nullopt);
  return *pool;
}

shutdown_report runtime_core::shutdown(std::optional<std::chrono::steady_clock::time_point> deadline) noexcept {
  if (shut_down_.exchange(true)) return {};
  if (watchdog_) watchdog_->stop();
  scheduler_.shutdown();
  shutdown_report report;
  if (!pool_) return report;
  std::vector<std::shared_ptr<blocking_pool>> dedicated;
  {
    std::lock_guard lock(dedicated_mutex_);
    dedicated_closed_ = true;
    dedicated.swap(dedicated_);
  }
  // Every pool's closures are asked to stop before any is waited for.
  for (const auto& pool : pools_) pool->begin_shutdown();
  for (const auto& pool : dedicated) pool->begin_shutdown();
  // Stragglers of every pool, and of spawn_thread's threads (pool "thread").
  std::size_t still_running = 0;
  for (const auto& pool : pools_) still_running += pool->finish_shutdown(deadline, &report.stragglers);
  for (const auto& pool : dedicated) still_running += pool->finish_shutdown(deadline, &report.stragglers);
  report.blocking_still_running = still_running;
  // The workers have exited (returning what they cached) and every task is
  // gone: return what their late frees left, here and in exited threads' heaps.
  release_task_memory();
  return report;
}

pool_metrics pool_metrics_of(const blocking_pool& pool) { return pool_metrics_of(pool, pool.metrics()); }

pool_metrics pool_metrics_of(const blocking_pool& pool, const blocking_pool_metrics& m) {
  pool_metrics out;
  out.name = pool.name();
  out.threads = m.threads;
  out.idle_threads = m.idle_threads;
  out.queue_depth = m.queue_depth;
  out.admit_waiters = m.admit_waiters;
  out.started_threads = m.threads_started;
  out.completed = m.completed;
  out.rejected = m.rejected;
  out.queue_wait = m.queue_wait;
  out.run_time = m.run_time;
  return out;
}

runtime_metrics runtime_core::metrics() const noexcept {
  runtime_metrics m;
  m.workers = scheduler_.num_workers();
  m.spawned_tasks = scheduler_.num_spawned();
  if (watchdog_) m.stalls = watchdog_->num_stalls();
  m.poll_time = scheduler_.poll_time();
  // One snapshot per pool: the blocking_* fields are the "blocking" entry's.
  for (const auto& pool : pools_) {
    const blocking_pool_metrics pm = pool->metrics();
    m.long_blocking_jobs += pm.long_blocking_jobs;
    if (pool == pool_) {
      m.blocking_threads = pm.threads;
      m.idle_blocking_threads = pm.idle_threads;
      m.blocking_queue_depth = pm.queue_depth;
      m.spawned_blocking_tasks = pm.spawned_jobs;
      m.blocking_threads_started = pm.threads_started;
      m.blocking_queue_wait = pm.queue_wait;
      m.blocking_run_time = pm.run_time;
    }
    try {
      m.pools.push_back(pool_metrics_of(*pool, pm));
    } catch (...) {
      // Swallowed: out of memory; the snapshot goes without (part of) its per-pool part.
    }
  }
  return m;
}

std::vector<task_snapshot> runtime_core::dump() const {
  std::vector<task_snapshot> out;
  scheduler_.dump(out);
  for (const auto& pool : pools_) pool->dump(out);
  std::lock_guard lock(dedicated_mutex_);
  for (const auto& pool : dedicated_) pool->dump(out);
  return out;
}

std::uint64_t runtime_core::watchdog_wakeups() const noexcept { return watchdog_ ? watchdog_->num_wakeups() : 0; }

runtime_core* runtime_core::current() noexcept { return thread_core; }

time_driver& current_time_driver() { return current_core().timers(); }

runtime_core::enter_scope::enter_scope(runtime_core* core) noexcept : previous_(std::exchange(thread_core, core)) {}
runtime_core::enter_scope::~enter_scope() { thread_core = previous_; }

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
// The shared heart of a runtime: its scheduler, driver and blocking pool,
// and the per-thread "which runtime am I in" context. runtime, handle and
// every runtime thread share it through a shared_ptr, so that blocking
// threads left running by a bounded shutdown keep it alive.
#include "blocking/pool.hpp"
#include "diagnostics/watchdog.hpp"
#include "util/activity_signal.hpp"
#include "runtime/driver.hpp"
#include "runtime/runtime_seams.hpp"
#include "scheduler/scheduler.hpp"

#include <weft/runtime.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weft::detail {

/// The public snapshot of one pool.
pool_metrics pool_metrics_of(const blocking_pool& pool);
pool_metrics pool_metrics_of(const blocking_pool& pool, const blocking_pool_metrics& m);

class runtime_core : public std::enable_shared_from_this<runtime_core> {
public:
  static std::shared_ptr<runtime_core> create(const runtime_config& config, runtime_seams seams = {});
  runtime_core(const runtime_core&) = delete;
  runtime_core& operator=(const runtime_core&) = delete;
  ~runtime_core();

  scheduler& tasks() noexcept { return scheduler_; }
  reactor& io() noexcept { return driver_.io(); }
  time_driver& timers() noexcept { return driver_.timers(); }
  blocking_pool& pool() noexcept { return *pool_; }
  /// The "compute" pool (weft/pool.hpp).
  blocking_pool& compute() noexcept { return *compute_; }
  /// The pool named `name`, or null.
  blocking_pool* find_pool(std::string_view name) noexcept;
  /// A one-thread pool for spawn_thread's job, named `name`, counted in no
  /// pool and shut down with the runtime (after shutdown: the default pool,
  /// which cancels what it is given).
  blocking_pool& dedicated_thread(std::string name);
  bool is_current_thread_flavor() const noexcept { return config_.current_thread; }

  /// Shuts down once; later calls report nothing still running.
  shutdown_report shutdown(std::optional<std::chrono::steady_clock::time_point> deadline) noexcept;
  runtime_metrics metrics() const noexcept;
  /// See handle::dump().
  std::vector<task_snapshot> dump() const;
  /// Test hook: how often the watchdog woke up (0 if there is none).
  std::uint64_t watchdog_wakeups() const noexcept;

  /// The runtime of the calling thread, or null.
  static runtime_core* current() noexcept;

  /// Marks the calling thread as inside `core` for the scope's lifetime.
  class enter_scope {
  public:
    explicit enter_scope(runtime_core* core) noexcept;
    ~enter_scope();
    enter_scope(const enter_scope&) = delete;
    enter_scope& operator=(const enter_scope&) = delete;

  private:
    runtime_core* previous_;
  };

private:
  runtime_core(const runtime_config& config, runtime_seams seams);
  void start();
  void start_watchdog();
  blocking_pool_config pool_config(std::string thread_name);

  runtime_config config_;
  runtime_seams seams_;
  activity_signal activity_;   // outlives the scheduler and the pool, which signal it
  driver driver_;         // outlives the scheduler: frames destroyed at shutdown deregister from it
  scheduler scheduler_;
  std::shared_ptr<blocking_pool> pool_;
  std::shared_ptr<blocking_pool> compute_;
  std::vector<std::shared_ptr<blocking_pool>> pools_;  // every pool, sorted by name
  mutable std::mutex dedicated_mutex_;                 // guards dedicated_
  std::vector<std::shared_ptr<blocking_pool>> dedicated_;  // spawn_thread's; null once shut down
  bool dedicated_closed_ = false;
  int workers_nice_ = 0;                               // set by start(), read-only after
  // Null when both thresholds are 0; stopped first at shutdown. Its sources
  // read pools_, declared above: it goes first.
  std::unique_ptr<watchdog> watchdog_;   // null when both thresholds are 0; stopped first at shutdown
  std::atomic<bool> shut_down_{false};
};

}  // namespace weft::detail

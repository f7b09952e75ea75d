// SPDX-License-Identifier: MIT
#pragma once
// The runtime's watchdog thread: reports polls that run too long (stalls)
// and blocking closures that run too long, while they still run. See
// watchdog.cpp for the design.
#include "util/activity_signal.hpp"
#include "util/poll_slot.hpp"

#include <weft/diagnostics.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <pthread.h>

namespace weft::detail {

struct watchdog_config {
  std::chrono::nanoseconds stall_threshold{0};           // 0 = stalls not watched
  std::chrono::nanoseconds long_blocking_threshold{0};   // 0 = blocking jobs not watched
  std::function<void(const stall_report&)> on_stall;                  // null: default line
  std::function<void(const long_blocking_report&)> on_long_blocking;  // null: default line
  std::string thread_name = "weft-watchdog";
};

/// What the watchdog looks at; each outlives it (the runtime stops the
/// watchdog before it shuts anything else down).
struct watchdog_sources {
  std::vector<const poll_slot*> workers;
  std::function<std::size_t()> num_awake_workers;   // seq_cst, see activity_signal.hpp
  std::function<bool()> blocking_busy;               // takes the pools' locks
  std::function<void(std::chrono::nanoseconds, std::vector<long_blocking_report>&)> collect_long_running;
};

class watchdog {
public:
  watchdog(watchdog_config config, watchdog_sources sources, activity_signal& activity);
  ~watchdog();
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

  /// Starts the thread. Errors: std::system_error if the OS refuses it.
  void start();
  /// Stops and joins the thread (a handler still running is waited for).
  void stop() noexcept;

  std::uint64_t num_stalls() const noexcept { return stalls_.load(std::memory_order_relaxed); }
  /// Times the thread woke up (test hook: an idle runtime must not wake it).
  std::uint64_t num_wakeups() const noexcept { return wakeups_.load(std::memory_order_relaxed); }

private:
  using clock = std::chrono::steady_clock;
  struct worker_watch {
    std::uint64_t seq = 0;        // the poll last seen (its slot's sequence)
    clock::time_point first_seen; // when it was first seen
    bool reported = false;
  };

  void run() noexcept;
  void sample_workers(clock::time_point now);
  void sample_blocking();
  bool workers_busy() const;
  bool blocking_busy() const;
  void report(const stall_report& r) noexcept;
  void report(const long_blocking_report& r) noexcept;

  const watchdog_config config_;
  const watchdog_sources sources_;
  activity_signal& activity_;
  std::vector<worker_watch> watches_;
  std::vector<long_blocking_report> long_reports_;   // reused between samples
  std::function<void(const stall_report&)> stall_handler_;
  std::function<void(const long_blocking_report&)> long_handler_;
  bool stall_handler_threw_ = false;   // each handler's first exception is reported, once
  bool long_handler_threw_ = false;
  std::atomic<bool> stop_{false};
  // relaxed counters: gauges, pair with nothing.
  std::atomic<std::uint64_t> stalls_{0};
  std::atomic<std::uint64_t> wakeups_{0};
  std::optional<pthread_t> thread_;
};

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
// The async scheduler: N workers with local run queues, a global inject
// queue, work stealing, and parking. See scheduler.cpp for the design.
#include "scheduler/inject_queue.hpp"
#include "scheduler/local_queue.hpp"
#include "scheduler/owned_tasks.hpp"
#include "scheduler/parker.hpp"
#include "util/activity_signal.hpp"
#include "util/histogram_cells.hpp"
#include "util/poll_slot.hpp"

#include <weft/detail/task_header.hpp>
#include <weft/diagnostics.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <string>
#include <vector>

namespace weft::detail {

struct scheduler_config {
  std::size_t workers = 1;
  bool current_thread = false;   // no worker threads: block_on drives worker 0
  std::string thread_name = "weft-worker";
  std::size_t stack_size = 0;
  std::function<void()> on_thread_start;   // on each worker thread, first
  std::function<void()> on_thread_stop;    // and last
  // Diagnostics (see "Diagnostics" in scheduler.cpp).
  bool publish_polls = false;          // each worker publishes its poll (poll_slot)
  bool poll_time_histogram = false;    // each poll is timed
  activity_signal* activity = nullptr; // told when a worker wakes up (may be null)
};

class scheduler final : public schedule_target {
public:
  scheduler(scheduler_config config, park_driver* driver);
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;
  ~scheduler();

  /// Starts the worker threads (multi-thread flavor). std::system_error if
  /// the OS refuses one.
  void start();

  /// Hands a new task (SCHEDULED, two references) to the scheduler. False
  /// after shutdown: the caller completes it as cancelled.
  bool spawn(task_header& task) noexcept;
  void schedule(task_header& task) noexcept override;
  void on_complete(task_header& task) noexcept override;
  void track(task_header& task) noexcept override;

  /// Current-thread flavor: runs worker 0 on the calling thread until `root`
  /// completes. Returns false at once if another thread is driving.
  bool try_drive_until(const task_header& root);

  /// Stops the workers, then cancels every live task (frames destroyed).
  void shutdown() noexcept;

  bool is_worker_thread() const noexcept;
  /// True on an async worker of any scheduler (a worker thread, or a thread
  /// driving a current-thread runtime inside block_on).
  static bool on_any_worker() noexcept { return current_worker_ != nullptr; }
  std::size_t num_workers() const noexcept { return workers_.size(); }
  std::uint64_t num_spawned() const noexcept;

  // -- diagnostics --------------------------------------------------------------
  /// What worker `i` publishes about its poll (config.publish_polls).
  const poll_slot& slot(std::size_t i) const noexcept;
  /// Workers inside their loop and not parked; 0 when the scheduler is idle.
  /// seq_cst: the watchdog's side of activity_signal's handshake.
  std::size_t num_awake() const noexcept { return num_awake_.load(); }
  /// Every poll's duration, summed over the workers (config.poll_time_histogram).
  duration_histogram poll_time() const noexcept;
  /// Appends the live async tasks it can see (see handle::dump()).
  void dump(std::vector<task_snapshot>& out) const;

private:
  struct worker;
  static thread_local worker* current_worker_;
  /// The worker loop, until shutdown or, given `root`, until it completes.
  void run_worker(worker& w, const task_header* root = nullptr);
  void push_local(worker& w, task_header& task) noexcept;
  task_header* next_task(worker& w) noexcept;
  task_header* steal(worker& w) noexcept;
  bool has_work() const noexcept;
  bool spin_for_work(worker& w) noexcept;
  void found_work(worker& w) noexcept;
  void sleep(worker& w) noexcept;
  void notify_one() noexcept;
  void notify_local() noexcept;
  void wake_sleeper() noexcept;
  void maintenance(worker& w) noexcept;
  void pace_timer_checks(worker& w) noexcept;
  void poll_task(worker& w, task_header& task) noexcept;
  void set_awake(bool awake) noexcept;

  scheduler_config config_;
  shared_driver driver_;
  std::vector<std::unique_ptr<worker>> workers_;
  std::vector<pthread_t> threads_;
  mutable inject_queue inject_;   // mutable: dump() walks it under its lock
  mutable owned_tasks owned_;
  std::atomic<bool> shutdown_{false};
  std::atomic<std::uint64_t> spawned_{0};   // spawns from outside the workers

  // Idle coordination (see scheduler.cpp, "Parking").
  std::mutex sleepers_mutex_;   // guards sleepers_ and worker::is_sleeping
  std::vector<worker*> sleepers_;
  std::atomic<std::size_t> num_sleeping_{0};
  std::atomic<std::size_t> num_searching_{0};
  std::atomic<std::size_t> num_awake_{0};   // see num_awake()

  std::mutex drive_mutex_;   // current-thread flavor: held by the thread driving worker 0
};

}  // namespace weft::detail

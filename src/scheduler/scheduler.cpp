// SPDX-License-Identifier: MIT
// The async scheduler.
//
// # Queues
// Each worker owns a local_queue. A task woken on a worker goes to that
// worker's queue; a task woken anywhere else (a blocking thread, the driver
// on a foreign thread, a thread in block_on) goes to the inject queue. An
// idle worker looks at its own queue, then the inject queue, then steals half
// of another worker's queue. Every 61st task it looks at the inject queue
// first and lets the driver run (maintenance), so neither starves.
//
// # Parking
// A worker with nothing to do spins briefly as a "searcher" (work pushed
// meanwhile is taken within a fraction of a microsecond instead of paying the
// ~21 µs wake of a halted vCPU), then sleeps:
//   1. it enters sleepers_ (num_sleeping_ += 1) and stops searching;
//   2. a seq_cst fence, then it checks every queue once more;
//   3. it parks (in the driver if free, else on its futex).
// A producer pushes, then (seq_cst) reads num_sleeping_ and num_searching_:
// if someone sleeps and nobody searches, it claims a sleeper under the lock,
// counts it as searching and unparks it. Either the producer sees the sleeper
// or the sleeper's re-check sees the task: no lost wake-up. A searcher that
// finds work and was the last searcher wakes another sleeper if more work is
// visible, so queued work never waits behind one busy worker.
//
// # Shutdown
//   1. shutdown_ is set and the inject queue is closed (wakes are dropped);
//   2. every worker is unparked, leaves its loop and is joined;
//   3. local queues are forgotten (tasks there are still owned);
//   4. every owned task is shut down: its frame destroyed, its join state
//      completed as cancelled. A destructor that wakes or aborts another task
//      is harmless: the queues no longer accept anything.
#include "scheduler/scheduler.hpp"

#include "util/cpu_relax.hpp"
#include "util/os_thread.hpp"

#include <cerrno>
#include <chrono>
#include <system_error>
#include <thread>
#include <utility>

namespace weft::detail {

namespace {
constexpr std::uint32_t inject_check_interval = 61;
// How long an idle worker searches before it sleeps: long enough to catch a
// blocking job's completion back to back (~1 µs) without the ~21 µs wake of a
// halted vCPU, short enough that a due timer is not held up (the sleeping
// worker is the one in the driver). Between passes it yields, so a thread
// that shares this CPU — often the very pool thread about to hand us work —
// can run. Bounded by the clock, never by a count of yields: under load one
// yield can last a whole time slice.
constexpr auto spin_time = std::chrono::microseconds(20);
constexpr int spins_per_clock_read = 16;
}  // namespace

struct scheduler::worker {
  worker(scheduler& s, std::size_t i) : owner(s), index(i), sleeper(s.driver_) {}
  scheduler& owner;
  std::size_t index;
  local_queue queue;
  parker sleeper;
  std::uint32_t tick = 0;
  bool is_searching = false;   // only this worker's thread reads or writes
  bool is_sleeping = false;    // guarded by sleepers_mutex_
};

thread_local scheduler::worker* scheduler::current_worker_ = nullptr;

scheduler::scheduler(scheduler_config config, park_driver* driver) : config_(std::move(config)) {
  driver_.driver = driver;
  for (std::size_t i = 0; i < config_.workers; ++i) workers_.push_back(std::make_unique<worker>(*this, i));
  sleepers_.reserve(workers_.size());
}

scheduler::~scheduler() { shutdown(); }

void scheduler::start() {
  if (config_.current_thread) return;
  threads_.reserve(workers_.size());
  for (auto& w : workers_) {
    pthread_t thread;
    const int rc = start_os_thread(thread, config_.thread_name, config_.stack_size, [this, &w] {
      if (config_.on_thread_start) config_.on_thread_start();
      run_worker(*w);
      if (config_.on_thread_stop) config_.on_thread_stop();
    });
    if (rc != 0) {
      shutdown();
      throw std::system_error(rc, std::system_category(), "weft: cannot start a worker thread");
    }
    threads_.push_back(thread);
  }
}

bool scheduler::is_worker_thread() const noexcept {
  return current_worker_ != nullptr && &current_worker_->owner == this;
}

// -- spawning and waking --------------------------------------------------------

bool scheduler::spawn(task_header& task) noexcept {
  if (shutdown_.load(std::memory_order_acquire)) return false;
  owned_.insert(task);
  // Re-check after inserting: shutdown's sweep either sees the task in the
  // owned list or we see the flag here (both sides use seq_cst).
  if (shutdown_.load()) {
    owned_.remove(task);
    return false;
  }
  spawned_.fetch_add(1, std::memory_order_relaxed);
  schedule(task);
  return true;
}

void scheduler::schedule(task_header& task) noexcept {
  worker* w = current_worker_;
  if (w != nullptr && &w->owner == this && !shutdown_.load(std::memory_order_relaxed)) {
    if (!w->queue.push(&task) && !inject_.push(&task)) return;
  } else if (!inject_.push(&task)) {
    return;   // shut down: the owned-list sweep cancels the task
  }
  notify_one();
}

void scheduler::on_complete(task_header& task) noexcept {
  owned_.remove(task);
  task.release();
}

void scheduler::notify_one() noexcept {
  // seq_cst fence: orders the caller's push before the loads below; pairs
  // with the fence in sleep() (Dekker: a push and a sleeper always meet).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (num_sleeping_.load() == 0 || num_searching_.load() != 0) return;
  worker* chosen = nullptr;
  {
    std::lock_guard lock(sleepers_mutex_);
    if (sleepers_.empty()) return;
    chosen = sleepers_.back();
    sleepers_.pop_back();
    chosen->is_sleeping = false;
    num_sleeping_.fetch_sub(1);
    num_searching_.fetch_add(1);   // handed to the woken worker (is_searching)
  }
  chosen->sleeper.unpark();
}

// -- the worker loop ------------------------------------------------------------

void scheduler::run_worker(worker& w) {
  current_worker_ = &w;
  while (!shutdown_.load(std::memory_order_acquire)) {
    // BUSY
    if (task_header* task = next_task(w)) {
      found_work(w);
      run_task(w, task);
      continue;
    }
    // SEARCHING: spin a little before paying for a sleep.
    if (!w.is_searching) {
      w.is_searching = true;
      num_searching_.fetch_add(1);
    }
    if (spin_for_work()) continue;
    // IDLE
    sleep(w);
  }
  // Thread exit
  if (w.is_searching) {
    w.is_searching = false;
    num_searching_.fetch_sub(1);
  }
  current_worker_ = nullptr;
}

task_header* scheduler::next_task(worker& w) noexcept {
  if (++w.tick % inject_check_interval == 0) {
    maintenance(w);
    if (task_header* task = inject_.pop()) return task;
  }
  if (task_header* task = w.queue.pop()) return task;
  if (task_header* task = inject_.pop()) return task;
  return steal(w);
}

task_header* scheduler::steal(worker& w) noexcept {
  const std::size_t n = workers_.size();
  for (std::size_t i = 1; i < n; ++i) {
    worker& victim = *workers_[(w.index + i) % n];
    if (task_header* task = victim.queue.steal_into(w.queue)) return task;
  }
  return nullptr;
}

bool scheduler::spin_for_work() const noexcept {
  const auto until = std::chrono::steady_clock::now() + spin_time;
  do {
    for (int i = 0; i < spins_per_clock_read; ++i) {
      if (has_work() || shutdown_.load(std::memory_order_relaxed)) return true;
      cpu_relax();
    }
    std::this_thread::yield();
  } while (std::chrono::steady_clock::now() < until);
  return false;
}

bool scheduler::has_work() const noexcept {
  if (!inject_.is_empty()) return true;
  for (const auto& w : workers_)
    if (!w->queue.is_empty()) return true;
  return false;
}

void scheduler::found_work(worker& w) noexcept {
  if (!w.is_searching) return;
  w.is_searching = false;
  // The last searcher to find work makes sure someone looks at the rest.
  if (num_searching_.fetch_sub(1) == 1 && has_work()) notify_one();
}

void scheduler::run_task(worker&, task_header* task) noexcept { task->poll(); }

void scheduler::maintenance(worker&) noexcept {
  if (driver_.driver && driver_.in_use.try_lock()) {
    driver_.driver->poll_ready();
    driver_.in_use.unlock();
  }
}

void scheduler::sleep(worker& w) noexcept {
  {
    std::lock_guard lock(sleepers_mutex_);
    sleepers_.push_back(&w);
    w.is_sleeping = true;
    num_sleeping_.fetch_add(1);
  }
  if (w.is_searching) {
    w.is_searching = false;
    num_searching_.fetch_sub(1);
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!has_work() && !shutdown_.load()) {
    const bool was_in_driver = w.sleeper.park();
    // The driver may have woken tasks onto the inject queue from here; if
    // others sleep, one of them should take the driver while we run them.
    if (was_in_driver && has_work()) notify_one();
  }
  std::lock_guard lock(sleepers_mutex_);
  if (w.is_sleeping) {   // woke by itself (driver event, re-check, shutdown)
    std::erase(sleepers_, &w);
    w.is_sleeping = false;
    num_sleeping_.fetch_sub(1);
    num_searching_.fetch_add(1);
  }
  w.is_searching = true;   // a notifier already counted us if it claimed us
}

// -- current-thread flavor ------------------------------------------------------

bool scheduler::try_drive_until(const task_header& root) {
  std::unique_lock lock(drive_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  worker& w = *workers_[0];
  worker* const previous = std::exchange(current_worker_, &w);
  while (!root.is_complete() && !shutdown_.load(std::memory_order_acquire)) {
    if (task_header* task = next_task(w)) {
      found_work(w);
      run_task(w, task);
      continue;
    }
    if (root.is_complete()) break;
    sleep(w);
  }
  if (w.is_searching) {
    w.is_searching = false;
    num_searching_.fetch_sub(1);
  }
  current_worker_ = previous;
  return true;
}

// -- shutdown -------------------------------------------------------------------

void scheduler::shutdown() noexcept {
  if (shutdown_.exchange(true)) return;
  inject_.close();
  for (auto& w : workers_) w->sleeper.unpark();
  if (driver_.driver) driver_.driver->unpark();
  for (pthread_t thread : threads_) pthread_join(thread, nullptr);
  threads_.clear();
  for (auto& w : workers_)
    while (w->queue.pop() != nullptr) {
    }
  while (task_header* task = owned_.any()) task->shutdown();
}

}  // namespace weft::detail

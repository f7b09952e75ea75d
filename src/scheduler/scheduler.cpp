// SPDX-License-Identifier: MIT
// The async scheduler.
//
// # Queues
// Each worker owns a local_queue. A task spawned or woken on a worker goes to
// that worker's queue; a task woken anywhere else (a blocking thread, the
// driver on a foreign thread, a thread in block_on) goes to the inject queue.
// A full local queue moves its older half to the inject queue in one batch
// (one lock per 128 tasks, not one per task: 56% more spawn_throughput). An
// idle worker looks at its own queue, then the inject queue, then steals half
// of another worker's queue. Every 61st task it looks at the inject queue
// first and lets the driver run (maintenance), so neither starves; between
// passes it fires the timers that are due when its polls are long (see
// timer_check_gap).
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
// A worker pushing onto its own queue skips the fence (notify_local): the
// worst a stale read can do there is leave the task to the pushing worker,
// which runs its own queue before it sleeps, so the task is delayed, never
// lost — and a spawn does not pay a full barrier (10% of spawn_throughput).
//
// # Tracking live tasks
// Shutdown must find every live task. A task that is never idle is always in
// a run queue, being polled, or being pushed by the thread that holds it; one
// that goes idle is entered in owned_ by its poller just before (see
// task_header::ensure_tracked) and leaves it when it completes. So a spawn
// and a completion that never wait take no lock (a mutex at both, as before,
// halves spawn_throughput); only tasks that wait pay, once in their life,
// for a sharded lock.
//
// # Diagnostics
// With publish_polls, a worker stores {sequence, task id, spawn site} in its
// poll_slot at the start of each poll and marks it idle when it stops
// polling: stores to a line of its own, no clock read. The watchdog samples
// the slots. num_awake_ counts workers in their loop and not parked; a worker
// that wakes from a park tells the activity_signal, so that a watchdog asleep
// on an idle runtime samples again. poll_time_histogram adds two clock reads
// per poll (opt-in, as in Tokio).
//
// # Shutdown
//   1. shutdown_ is set and the inject queue is closed (further pushes from
//      outside the workers are refused); what it held is kept aside;
//   2. every worker is unparked, leaves its loop and is joined;
//   3. every task left in a queue is shut down (frame destroyed, join state
//      completed as cancelled), then every task still in owned_ (idle ones,
//      and any a worker could not queue after step 1). A destructor that
//      wakes or aborts another task is harmless: that task is idle, hence
//      in owned_, and the queues no longer accept anything from here.
#include "scheduler/scheduler.hpp"

#include "task/task_memory.hpp"
#include "util/cpu_relax.hpp"
#include "util/idle_workers.hpp"
#include "util/os_thread.hpp"
#include "util/spin_pause.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <unordered_set>
#include <system_error>
#include <utility>

namespace weft::detail {

namespace {
constexpr std::uint32_t inject_check_interval = 61;
// How long an idle worker searches before it sleeps: long enough to catch a
// blocking job's completion back to back (~1 µs) and a client's next
// request without the ~21 µs wake of a halted vCPU; it polls the driver as
// it goes, so due timers and readiness are not held up. 50 µs rather than
// 20: echo p99 under a saturated pool 59 -> 52 µs and timer p99 under that
// load 92 -> 65 µs (alternated runs; bench/README.md, "Worker spin 20 ->
// 50 µs"). Between passes it yields, so a thread that shares this CPU —
// often the very pool thread about to hand us work — can run. Bounded by
// the clock, never by a count of yields: under load one yield can last a
// whole time slice; while another program holds every CPU the worker does
// not spin at all (util/spin_pause.hpp).
constexpr auto spin_time = std::chrono::microseconds(50);
constexpr int spins_per_clock_read = 16;
// How often a busy worker checks for due timers between maintenance passes.
// While workers are busy nobody sleeps in the driver, so without it a timer
// waits up to 61 polls — under a burst of blocking completions, where a poll
// costs microseconds (it hands a job to a pool thread), hundreds of µs. The
// check is a relaxed load while no timer is armed, else a clock read (20 ns),
// so it is paced by the polls' length, measured at each maintenance pass (one
// clock read per 61 polls): about every timer_check_gap, every 2nd poll at
// the most; short polls leave it to the maintenance pass. Time the worker
// spent idle counts as polling, so after a sleep it errs toward checking.
// Every 2nd poll measured timer_under_blocking_load p99 204 -> 88 µs (medians
// of 8 paired rounds; every 4th, 139 µs); unpaced, it cost a yield_now poll
// 10.6 ns.
constexpr auto timer_check_gap = std::chrono::microseconds(5);
constexpr std::uint32_t min_timer_check_interval = 2;
}  // namespace

struct scheduler::worker {
  worker(scheduler& s, std::size_t i) : owner(s), index(i), sleeper(s.driver_) {}
  scheduler& owner;
  std::size_t index;
  local_queue queue;
  parker sleeper;
  std::uint32_t tick = 0;
  std::uint32_t timer_check_interval = min_timer_check_interval;   // polls between due-timer checks
  std::uint32_t polls_to_timer_check = min_timer_check_interval;
  std::chrono::steady_clock::time_point last_maintenance{};
  bool is_searching = false;   // only this worker's thread reads or writes
  int busy_cpu = -1;           // the CPU spin_pause::worker_busy marked for this worker, or -1
  std::atomic<std::uint64_t> spawned{0};   // written by this worker only; read by metrics
  bool is_sleeping = false;    // guarded by sleepers_mutex_
  poll_slot slot;              // written by this worker only (its own cache line)
  histogram_cells poll_time;   // written by this worker only
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
  // acquire: pairs with shutdown()'s exchange (a spawn that sees the flag
  // refuses at once; one that does not is caught by the queues, below).
  if (shutdown_.load(std::memory_order_acquire)) return false;
  worker* w = current_worker_;
  if (w != nullptr && &w->owner == this) {
    // relaxed: only this worker writes its counter; metrics() reads a gauge.
    w->spawned.store(w->spawned.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    push_local(*w, task);   // drained by shutdown after this worker is joined
    return true;
  }
  if (!inject_.push(&task)) return false;   // closed: shutdown has begun
  spawned_.fetch_add(1, std::memory_order_relaxed);   // relaxed: a gauge, pairs with nothing
  notify_one();
  return true;
}

void scheduler::schedule(task_header& task) noexcept {
  worker* w = current_worker_;
  if (w != nullptr && &w->owner == this) {
    push_local(*w, task);
    return;
  }
  // From outside the workers only idle tasks are woken or aborted, and idle
  // tasks are in owned_: if the queue is closed, the sweep cancels the task.
  if (inject_.push(&task)) notify_one();
}

void scheduler::push_local(worker& w, task_header& task) noexcept {
  if (w.queue.push(&task)) {
    notify_local();
    return;
  }
  task_batch overflow;
  w.queue.take_half(overflow);
  overflow.push_back(&task);
  if (inject_.push(overflow)) {
    notify_one();
    return;
  }
  // Shut down: the queues take nothing more. This worker holds these tasks
  // (claimed from its queue, or being pushed), so it may track them; the
  // sweep after this worker is joined cancels them.
  while (task_header* t = overflow.pop_front()) t->ensure_tracked();
}

void scheduler::on_complete(task_header& task) noexcept {
  if (task.is_tracked()) owned_.remove(task);
  task.release();
}

void scheduler::track(task_header& task) noexcept { owned_.insert(task); }

std::uint64_t scheduler::num_spawned() const noexcept {
  // relaxed: gauges, pair with nothing.
  std::uint64_t n = spawned_.load(std::memory_order_relaxed);
  for (const auto& w : workers_) n += w->spawned.load(std::memory_order_relaxed);
  return n;
}

void scheduler::notify_one() noexcept {
  // seq_cst fence: orders the caller's push before the loads below; pairs
  // with the fence in sleep() (Dekker: a push and a sleeper always meet).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (num_sleeping_.load() == 0 || num_searching_.load() != 0) return;
  wake_sleeper();
}

void scheduler::notify_local() noexcept {
  // relaxed, no fence: the task is on the calling worker's own queue, so a
  // stale read delays it at worst (see "Parking" above); pairs with nothing.
  if (num_sleeping_.load(std::memory_order_relaxed) == 0 || num_searching_.load(std::memory_order_relaxed) != 0) return;
  wake_sleeper();
}

void scheduler::wake_sleeper() noexcept {
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

void scheduler::run_worker(worker& w, const task_header* root) {
  worker* const previous = std::exchange(current_worker_, &w);
  set_awake(true);
  const auto is_done = [&] {
    return shutdown_.load(std::memory_order_acquire) || (root != nullptr && root->is_complete());
  };
  while (!is_done()) {
    // BUSY
    if (task_header* task = next_task(w)) {
      found_work(w);
      poll_task(w, *task);
      continue;
    }
    // SEARCHING: spin a little before paying for a sleep.
    spin_pause::worker_idle(std::exchange(w.busy_cpu, -1));
    if (!w.is_searching) {
      w.is_searching = true;
      num_searching_.fetch_add(1);
      if (config_.publish_polls) w.slot.idle();
    }
    if (spin_for_work(w)) continue;
    // IDLE
    sleep(w);
  }
  // Leaving (thread exit, or block_on's task is done)
  spin_pause::worker_idle(std::exchange(w.busy_cpu, -1));
  if (w.is_searching) {
    w.is_searching = false;
    num_searching_.fetch_sub(1);
  }
  if (config_.publish_polls) w.slot.idle();
  set_awake(false);
  current_worker_ = previous;
}

void scheduler::poll_task(worker& w, task_header& task) noexcept {
  // Read before the poll: the task may be gone after it.
  if (config_.publish_polls) w.slot.begin(task.id(), task.spawned_at());
  if (!config_.poll_time_histogram) {
    task.poll();
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  task.poll();
  w.poll_time.record(std::chrono::steady_clock::now() - start);
}

void scheduler::set_awake(bool awake) noexcept {
  if (!awake) {
    num_awake_.fetch_sub(1);   // seq_cst: see activity_signal.hpp
    return;
  }
  num_awake_.fetch_add(1);     // seq_cst: published before the signal's load
  if (config_.activity) config_.activity->became_busy(activity_signal::workers);
}

task_header* scheduler::next_task(worker& w) noexcept {
  if (++w.tick % inject_check_interval == 0) {
    pace_timer_checks(w);
    maintenance(w);
    if (task_header* task = inject_.pop()) return task;
  } else if (--w.polls_to_timer_check == 0) {
    w.polls_to_timer_check = w.timer_check_interval;
    if (driver_.driver) driver_.driver->fire_due_timers();
  }
  if (task_header* task = w.queue.pop()) return task;
  // One at a time: taking a batch into the local queue measured 16% slower
  // in spawn_throughput, as walking the batch's links stalls on a cache miss
  // per task that polling would have overlapped with other work.
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

bool scheduler::spin_for_work(worker& w) noexcept {
  // Spinning is paused while another program holds every CPU: a yield would
  // hand it a time slice while the driver (and so the next due timer) waits
  // for us (util/spin_pause.hpp). Sleep: a parked worker's wake gets a CPU.
  if (!spin_pause::may_spin()) return has_work();
  const idle_worker_spin mark_cpu;   // a pool thread here gives way (see there)
  const auto until = std::chrono::steady_clock::now() + spin_time;
  do {
    for (int i = 0; i < spins_per_clock_read; ++i) {
      if (has_work() || shutdown_.load(std::memory_order_relaxed)) return true;
      cpu_relax();
    }
    // Readiness and due timers are seen only by whoever polls the driver: a
    // spinning worker polls it too, or a socket message arriving now would
    // wait out the rest of the spin.
    maintenance(w);
    if (!spin_pause::yield()) break;
  } while (std::chrono::steady_clock::now() < until);
  return has_work();
}

bool scheduler::has_work() const noexcept {
  if (!inject_.is_empty()) return true;
  for (const auto& w : workers_)
    if (!w->queue.is_empty()) return true;
  return false;
}

void scheduler::found_work(worker& w) noexcept {
  if (w.busy_cpu < 0) w.busy_cpu = spin_pause::worker_busy();
  if (!w.is_searching) return;
  w.is_searching = false;
  // The last searcher to find work makes sure someone looks at the rest.
  if (num_searching_.fetch_sub(1) == 1 && has_work()) notify_one();
}

void scheduler::pace_timer_checks(worker& w) noexcept {
  const auto now = std::chrono::steady_clock::now();
  const auto per_poll = (now - w.last_maintenance) / inject_check_interval;
  w.last_maintenance = now;
  const auto polls = per_poll.count() > 0 ? timer_check_gap / per_poll : inject_check_interval;
  w.timer_check_interval =
      static_cast<std::uint32_t>(std::clamp<decltype(polls)>(polls, min_timer_check_interval, inject_check_interval));
  w.polls_to_timer_check = std::min(w.polls_to_timer_check, w.timer_check_interval);
}

void scheduler::maintenance(worker&) noexcept {
  if (driver_.driver && driver_.in_use.try_lock()) {
    driver_.driver->poll_ready();
    driver_.in_use.unlock();
  }
}

void scheduler::sleep(worker& w) noexcept {
  // Nothing to do: give back the task memory a burst left cached here.
  trim_task_memory();
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
    set_awake(false);
    const bool was_in_driver = w.sleeper.park();
    set_awake(true);
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

// -- diagnostics ------------------------------------------------------------------

const poll_slot& scheduler::slot(std::size_t i) const noexcept { return workers_[i]->slot; }

duration_histogram scheduler::poll_time() const noexcept {
  duration_histogram h;
  for (const auto& w : workers_) w->poll_time.add_to(h);
  return h;
}

void scheduler::dump(std::vector<task_snapshot>& out) const {
  const std::int64_t now = coarse_now_ns();
  std::unordered_set<task_id> seen;
  const auto add = [&](const task_header& t, task_state state, std::int64_t since) {
    if (!seen.insert(t.id()).second) return;
    task_snapshot snap;
    snap.id = t.id();
    snap.kind = task_kind::async_task;
    snap.state = state;
    snap.spawned_at = t.spawned_at();
    snap.age = std::chrono::nanoseconds(since != 0 && now > since ? now - since : 0);
    out.push_back(snap);
  };
  // Tasks that have been idle once: alive under their shard's lock.
  owned_.for_each([&](const task_header& t, std::int64_t since) {
    const std::uint64_t flags = t.state_flags();
    if ((flags & task_header::complete) != 0) return;
    const task_state state = (flags & task_header::running) != 0     ? task_state::running
                             : (flags & task_header::scheduled) != 0 ? task_state::queued
                                                                     : task_state::suspended;
    add(t, state, since);
  });
  // Never idle: being polled (from the slots, never dereferenced) ...
  for (const auto& w : workers_) {
    poll_slot::sample s;
    if (!w->slot.read(s) || s.task == 0 || seen.contains(s.task)) continue;
    seen.insert(s.task);
    task_snapshot snap;
    snap.id = s.task;
    snap.state = task_state::running;
    snap.spawned_at = s.spawned_at;
    out.push_back(snap);
  }
  // ... or in the global queue (alive while queued).
  inject_.for_each([&](const task_header& t) { add(t, task_state::queued, 0); });
}

// -- current-thread flavor ------------------------------------------------------

bool scheduler::try_drive_until(const task_header& root) {
  std::unique_lock lock(drive_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  run_worker(*workers_[0], &root);
  return true;
}

// -- shutdown -------------------------------------------------------------------

void scheduler::shutdown() noexcept {
  if (shutdown_.exchange(true)) return;
  task_batch queued = inject_.close();
  for (auto& w : workers_) w->sleeper.unpark();
  if (driver_.driver) driver_.driver->unpark();
  for (pthread_t thread : threads_) pthread_join(thread, nullptr);
  threads_.clear();
  // Current-thread flavor: a thread in block_on may be driving worker 0
  // (shutdown called from a blocking closure or another thread): wait until
  // it has left the loop before draining worker 0's queue under it.
  { std::lock_guard driving(drive_mutex_); }
  for (auto& w : workers_)
    while (task_header* task = w->queue.pop()) queued.push_back(task);
  while (task_header* task = queued.pop_front()) task->shutdown();
  while (task_header* task = owned_.any()) task->shutdown();
}

}  // namespace weft::detail

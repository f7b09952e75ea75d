// SPDX-License-Identifier: MIT
// The life of one pool thread: STARTING -> BUSY <-> IDLE -> EXIT
// (design: blocking/pool.hpp).
#include "blocking/pool.hpp"
#include "blocking/pool_thread.hpp"
#include "util/cpu_load.hpp"
#include "util/idle_workers.hpp"
#include "util/spin_pause.hpp"

#include <weft/detail/deadline.hpp>

#include <climits>
#include <mutex>
#include <utility>

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

namespace weft::detail {

using blocking_sync::cpu_relax;
using blocking_sync::futex_wait;
using blocking_sync::futex_wake;

namespace {

// How long an idle thread spins before parking. Waking a parked thread on the
// other vCPU costs ~21 µs; spinning gives ~0.1 µs hand-offs (limits.md §1).
// 50 µs covers a back-to-back spawn_blocking loop even when the awaiting
// worker itself parked and had to be woken (~21 µs) between two jobs.
constexpr auto idle_spin = std::chrono::microseconds(50);
// Loads of signal_ between two clock reads (~1-2 µs of pause instructions).
constexpr int spins_per_clock_read = 64;

}  // namespace

void* blocking_pool::thread_entry(void* record) noexcept {
  auto& self = *static_cast<pool_thread*>(record);
  std::shared_ptr<blocking_pool> pool = std::move(self.owner_);
  pool->run_thread(self);
  return nullptr;  // dropping `pool` here may destroy it (a detached thread, owner gone)
}

void blocking_pool::run_thread(pool_thread& self) noexcept {
  this_thread_blocking_pool = this;
  self.tid_.store(gettid(), std::memory_order_relaxed);
  pthread_setname_np(pthread_self(), thread_name_.c_str());
  if (config_.sched_batch) {
    // Not an error if refused (a seccomp filter, a kernel without it): the
    // thread keeps the policy it inherited. Before the nice value, which
    // sched_setscheduler keeps.
    const sched_param normal{};
    (void)sched_setscheduler(0, SCHED_BATCH, &normal);
  }
  // Best effort: lowering a nice value needs CAP_SYS_NICE, so a thread started
  // from a thread that runs lower than this pool stays as low.
  if (config_.thread_nice) (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), *config_.thread_nice);
  if (config_.on_thread_start) config_.on_thread_start();

  // STARTING: come up, then take the queue head (the job we were started
  // for, or an older one) or go idle.
  bool exit = false;
  bool wake_supervisor = false;
  bool starts_stopped = false;
  blocking_job* job = nullptr;
  std::optional<after_unlock> todo;  // grants to admit waiters, after unlocking
  // When the current job was taken. One clock read per job: a job taken from
  // the queue right after the previous one began when that one ended.
  clock::time_point began;
  {
    std::lock_guard lock(mutex_);
    --num_starting_;
    ++threads_started_;
    self.live_prev_ = nullptr;
    self.live_next_ = live_;
    if (live_ != nullptr) live_->live_prev_ = &self;
    live_ = &self;
    if (!self.in_all_records_) {
      self.in_all_records_ = true;
      self.all_next_ = all_records_.load(std::memory_order_relaxed);   // relaxed: writers hold mutex_
      // release: publishes all_next_ to metrics()' lock-free walk.
      all_records_.store(&self, std::memory_order_release);
    }
    if (supervisor_awaits_start_) {
      poke_supervisor_locked();
      wake_supervisor = true;
    }
    began = clock::now();
    job = next_job_locked(self, exit);
    starts_stopped = job != nullptr && is_shutdown_;
    if (waiters_head_ != nullptr && !exit) [[unlikely]] {
      todo.emplace();
      grant_waiters_locked(began, *todo);
    }
  }
  if (wake_supervisor) futex_wake(supervisor_seq_);
  if (todo) run_after_unlock(*todo);
  // Shutdown came before this thread took its job, so it asked nobody to stop.
  if (starts_stopped) job->request_stop();

  while (!exit) {
    // IDLE
    if (job == nullptr) {
      job = wait_for_job(self);
      if (job == nullptr) break;  // keep-alive ran out, or shutdown
      began = clock::now();
    }
    // BUSY
    const auto ended = run_job(self, *job, began);
    blocking_job* done = job;
    self.last_submit_cpu_ = done->submit_cpu_;
    todo.reset();
    {
      std::unique_lock lock(mutex_);
      self.started_ns_.store(0, std::memory_order_relaxed);   // relaxed: read under mutex_
      self.long_reported_ = false;
      ++completed_;
      last_finished_ = ended;
      if (ended - began <= cpu_bound_judge::contended_job) ++completed_short_;
      // acquire: pairs with shutdown's release store of 0 once request_stop()
      // has returned; the job must not be completed (and freed) before that.
      while (self.stop_pending_.load(std::memory_order_acquire) != 0) {
        lock.unlock();
        futex_wait(self.stop_pending_, 1);
        lock.lock();
      }
      self.job_ = nullptr;
      job = next_job_locked(self, exit);
      began = ended;
      if (waiters_head_ != nullptr) [[unlikely]] {
        todo.emplace();
        grant_waiters_locked(ended, *todo);  // taking the head (or going idle) freed room
      }
    }
    // Available again (busy with the next job or on the idle list) before the
    // result is published.
    done->complete();
    if (todo) run_after_unlock(*todo);
  }
  // Thread exit
  exit_thread(self);
}

blocking_pool::clock::time_point blocking_pool::run_job(pool_thread& self, blocking_job& job,
                                                        clock::time_point start) noexcept {
  // relaxed: read by the watchdog under mutex_, which orders job_.
  self.started_ns_.store(start.time_since_epoch().count(), std::memory_order_relaxed);
  // The pool's only histograms: this record's cells (no lock, no shared line).
  self.queue_wait_.record(start - submitted_at(job));
  // job_ was set under mutex_ before this: see activity_signal.hpp.
  if (config_.activity) config_.activity->became_busy(activity_signal::pools);
  job.run();
  const auto ended = clock::now();
  self.run_time_.record(ended - start);
  return ended;
}

blocking_job* blocking_pool::next_job_locked(pool_thread& self, bool& exit) noexcept {
  // After shutdown only spawn_thread's thread takes a job: its own, which
  // shutdown left queued for it (pool_shutdown.cpp).
  // While the threads are limited by CPU, as many as there are CPUs serve
  // the queue; a thread beyond them goes idle (holds_idle_threads_locked).
  const bool surplus = !is_shutdown_ && holds_idle_threads_locked() && busy_threads_locked() > num_cpus_;
  blocking_job* job = (!is_shutdown_ && !surplus) || config_.dedicated ? pop_front_locked() : nullptr;
  if (job != nullptr) {
    self.job_ = job;
    ++jobs_taken_;
    return job;
  }
  if (is_shutdown_) {
    exit = true;
    return nullptr;
  }
  // relaxed: claims happen under mutex_, after this store.
  self.signal_.store(signal_empty, std::memory_order_relaxed);
  push_idle_locked(self);
  return nullptr;
}

blocking_job* blocking_pool::wait_for_job(pool_thread& self) noexcept {
  if (spin_for_hand_off(self)) return self.job_;

  const auto deadline = saturating_add(clock::now(), config_.keep_alive);   // max(): never
  std::uint32_t seen = signal_empty;
  // acquire (both outcomes): if the hand-off came first, job_ must be visible;
  // pairs with the release exchange in hand_off().
  if (self.signal_.compare_exchange_strong(seen, signal_parked, std::memory_order_acquire, std::memory_order_acquire)) {
    bool timed_out = false;
    // acquire: as above.
    while (!timed_out && self.signal_.load(std::memory_order_acquire) == signal_parked) {
      timed_out = !futex_wait(self.signal_, signal_parked, deadline);
    }
    if (timed_out && self.signal_.load(std::memory_order_acquire) == signal_parked) {
      {
        std::lock_guard lock(mutex_);
        if (self.is_idle_) {
          remove_idle_locked(self);
          return nullptr;  // nobody claimed us in keep_alive: exit
        }
      }
      // Claimed between the time-out and the lock: the hand-off is on its way.
      while (self.signal_.load(std::memory_order_acquire) == signal_parked) {
        futex_wait(self.signal_, signal_parked);
      }
    }
  }
  return self.job_;  // null: shutdown told us to exit
}

bool blocking_pool::spin_for_hand_off(pool_thread& self) noexcept {
  // acquire: pairs with the release exchange in hand_off().
  const auto notified_now = [&] { return self.signal_.load(std::memory_order_acquire) == signal_notified; };
  // The worker that handed us the last job shares our CPU and spins there,
  // waiting for what we just finished, and no other CPU is free to run one
  // of us: spinning would only hold it off (a yield does not reliably give
  // way, see util/idle_workers.hpp). Park: it runs now, and its next hand-off
  // is a same-CPU futex wake (~1.8 µs). While another CPU is free, spin: the
  // kernel moves one of two spinning threads there, where a parked one would
  // be woken onto the waker's CPU again and again.
  const auto submitter_waits_here = [&] {
    return self.last_submit_cpu_ == sched_getcpu() && idle_worker_spin::on_this_cpu() && cpus_oversubscribed();
  };
  // Spinning is paused while another program holds every CPU (util/
  // spin_pause.hpp): each yield would hand it a time slice, and a job handed
  // to us meanwhile would wait that long. Park: a futex wake gets a CPU
  // within the scheduler's wake-up latency.
  if (submitter_waits_here() || !spin_pause::may_spin()) return notified_now();
  // relaxed: a heuristic cap on burnt CPU; no data is published through it.
  if (num_spinning_.fetch_add(1, std::memory_order_relaxed) >= max_spinners_) {
    num_spinning_.fetch_sub(1, std::memory_order_relaxed);
    return notified_now();
  }
  const auto until = clock::now() + idle_spin;
  bool notified = false;
  while (!notified) {
    for (int i = 0; i < spins_per_clock_read; ++i) {
      // acquire: pairs with the release exchange in hand_off().
      if (self.signal_.load(std::memory_order_acquire) == signal_notified) {
        notified = true;
        break;
      }
      cpu_relax();
    }
    if (clock::now() >= until || submitter_waits_here()) break;
    // If the thread that will hand us a job shares our CPU, spinning would
    // only keep it off that CPU: let it run. Returns at once otherwise (or
    // pauses spinning, above).
    if (!spin_pause::yield()) break;
  }
  num_spinning_.fetch_sub(1, std::memory_order_relaxed);
  return notified;
}

void blocking_pool::exit_thread(pool_thread& self) noexcept {
  if (config_.on_thread_stop) config_.on_thread_stop();
  std::optional<pthread_t> previous;
  bool wake_shutdown = false;
  pool_thread* replacement = nullptr;
  bool wake_supervisor = false;
  {
    std::lock_guard lock(mutex_);
    (self.live_prev_ != nullptr ? self.live_prev_->live_next_ : live_) = self.live_next_;
    if (self.live_next_ != nullptr) self.live_next_->live_prev_ = self.live_prev_;
    self.live_prev_ = nullptr;
    self.live_next_ = spare_;  // `self` is not touched after the lock is released
    spare_ = &self;
    --num_threads_;
    // Tokio #8056's shape: a job submitted after this thread left the idle
    // list but before it stopped counting saw the pool at its cap and only
    // queued. Nobody else would start a thread for it: see to it here.
    if (!is_shutdown_ && head_ != nullptr) {
      if (num_threads_ == 0 || !supervisor_) replacement = begin_start_locked();
      else wake_supervisor = arm_supervisor_locked(clock::now());
    }
    if (detach_on_exit_) {
      pthread_detach(pthread_self());  // shutdown stopped waiting for us
    } else {
      previous = std::exchange(last_exiting_, pthread_self());  // the next to exit joins us
    }
    wake_shutdown = is_shutdown_;
    // relaxed: shutdown re-reads num_threads_ under mutex_.
    if (wake_shutdown) exit_seq_.fetch_add(1, std::memory_order_relaxed);
  }
  if (wake_shutdown) futex_wake(exit_seq_, INT_MAX);
  if (replacement != nullptr) start_thread(replacement);
  if (wake_supervisor) futex_wake(supervisor_seq_);
  if (previous) pthread_join(*previous, nullptr);
  this_thread_blocking_pool = nullptr;
}

}  // namespace weft::detail

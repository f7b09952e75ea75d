// SPDX-License-Identifier: MIT
// The blocking pool: creation, submit, try_cancel, metrics, the queue and
// thread starts. The design is described at the top of blocking/pool.hpp.
#include "blocking/pool.hpp"

#include "blocking/pool_thread.hpp"
#include "util/cpu_load.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <mutex>
#include <new>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace weft::detail {

using blocking_sync::futex_wake;

std::shared_ptr<blocking_pool> blocking_pool::create(blocking_pool_config config) {
  if (config.max_threads == 0) {
    throw std::invalid_argument("weft: max_blocking_threads must be > 0");
  }
  auto pool = std::make_shared<blocking_pool>(std::move(config), private_tag{});
  // A pool that starts its threads at once and sheds nothing never needs one.
  if (pool->config_.start_at_once && pool->config_.max_queue_wait.count() <= 0) return pool;
  pthread_t supervisor;
  // The supervisor holds a raw pointer: ~blocking_pool stops and joins it.
  if (const int err = pthread_create(&supervisor, nullptr, &supervisor_entry, pool.get())) {
    throw std::system_error(err, std::system_category(), "weft: cannot start the blocking pool");
  }
  std::lock_guard lock(pool->mutex_);
  pool->supervisor_ = supervisor;
  return pool;
}

blocking_pool::blocking_pool(blocking_pool_config config, private_tag)
    : config_(std::move(config)),
      thread_name_(config_.thread_name.substr(0, 15)),  // Linux's limit: 16 bytes with the NUL
      num_cpus_(static_cast<std::uint32_t>(usable_cpus())),
      max_spinners_(std::max(1U, num_cpus_ / 2)),
      // An eighth of the delay: a thread may start that much early, never late.
      wait_times_(config_.spawn_delay / 8),
      queue_full_(std::make_exception_ptr(std::runtime_error("rejected by pool \"" + config_.name + "\": queue full"))),
      waited_too_long_(std::make_exception_ptr(
          std::runtime_error("rejected by pool \"" + config_.name + "\": waited longer than max_queue_wait"))) {}

blocking_pool::~blocking_pool() {
  // Every pool thread holds a reference, so none is alive unless this runs on
  // the last one as it exits; it may have left itself in last_exiting_.
  std::optional<pthread_t> supervisor;
  std::optional<pthread_t> last;
  {
    std::lock_guard lock(mutex_);
    supervisor_stop_ = true;
    supervisor = std::exchange(supervisor_, std::nullopt);
    last = std::exchange(last_exiting_, std::nullopt);
    // relaxed: the state is under mutex_; the futex compare prevents a lost wake.
    supervisor_seq_.fetch_add(1, std::memory_order_relaxed);
  }
  futex_wake(supervisor_seq_);
  if (supervisor) pthread_join(*supervisor, nullptr);
  if (last) {
    if (pthread_equal(*last, pthread_self())) {
      pthread_detach(*last);
    } else {
      pthread_join(*last, nullptr);
    }
  }
  while (pool_thread* record = spare_) {
    spare_ = record->live_next_;
    delete record;
  }
}

blocking_pool_metrics blocking_pool::metrics() const noexcept {
  blocking_pool_metrics m;
  {
    std::lock_guard lock(mutex_);
    m = {num_threads_,
         num_idle_,
         queue_depth_,
         spawned_jobs_,
         threads_started_,
         long_blocking_jobs_,
         num_waiters_,
         completed_,
         rejected_,
         {},
         {}};
  }
  // acquire: pairs with the release publication of each record in run_thread.
  for (const pool_thread* r = all_records_.load(std::memory_order_acquire); r != nullptr; r = r->all_next_) {
    r->queue_wait_.add_to(m.queue_wait);
    r->run_time_.add_to(m.run_time);
  }
  return m;
}

void blocking_pool::hand_off(pool_thread& record) noexcept {
  // release: publishes record.job_ to the thread's acquire loads of signal_.
  // A thread still spinning sees the new value without any system call.
  if (record.signal_.exchange(signal_notified, std::memory_order_release) == signal_parked) {
    futex_wake(record.signal_);
  }
}

void blocking_pool::push_back_locked(blocking_job& job, clock::time_point now) noexcept {
  job.pool_next_ = nullptr;
  job.pool_prev_ = tail_;
  if (tail_ != nullptr) {
    tail_->pool_next_ = &job;
  } else {
    head_ = &job;
  }
  tail_ = &job;
  job.submitted_ns_ = now.time_since_epoch().count();
  wait_times_.push(now);
  ++queue_depth_;
}

blocking_job* blocking_pool::pop_front_locked() noexcept {
  blocking_job* job = head_;
  if (job != nullptr) {
    wait_times_.pop_oldest();
    unlink_locked(*job);
  }
  return job;
}

void blocking_pool::unlink_locked(blocking_job& job) noexcept {
  (job.pool_prev_ != nullptr ? job.pool_prev_->pool_next_ : head_) = job.pool_next_;
  (job.pool_next_ != nullptr ? job.pool_next_->pool_prev_ : tail_) = job.pool_prev_;
  job.pool_next_ = job.pool_prev_ = nullptr;
  --queue_depth_;
}

blocking_job* blocking_pool::take_all_queued_locked() noexcept {
  // The jobs stay chained through pool_next_ for cancel_all; clearing
  // pool_prev_ makes them "not queued" for try_cancel.
  blocking_job* list = head_;
  for (blocking_job* job = head_; job != nullptr; job = job->pool_next_) job->pool_prev_ = nullptr;
  head_ = tail_ = nullptr;
  queue_depth_ = 0;
  wait_times_.clear();
  return list;
}

void blocking_pool::cancel_all(blocking_job* list, const std::exception_ptr& why) noexcept {
  while (list != nullptr) {
    blocking_job* next = list->pool_next_;  // read first: cancel() may free the job
    list->cancel(why);
    list = next;
  }
}

void blocking_pool::push_idle_locked(pool_thread& record) noexcept {
  record.idle_prev_ = nullptr;
  record.idle_next_ = idle_;
  if (idle_ != nullptr) idle_->idle_prev_ = &record;
  idle_ = &record;
  record.is_idle_ = true;
  ++num_idle_;
}

pool_thread& blocking_pool::claim_idle_locked(blocking_job& job) noexcept {
  pool_thread& idle = *idle_;
  remove_idle_locked(idle);
  idle.job_ = &job;
  ++jobs_taken_;
  return idle;
}

void blocking_pool::remove_idle_locked(pool_thread& record) noexcept {
  (record.idle_prev_ != nullptr ? record.idle_prev_->idle_next_ : idle_) = record.idle_next_;
  if (record.idle_next_ != nullptr) record.idle_next_->idle_prev_ = record.idle_prev_;
  record.idle_prev_ = record.idle_next_ = nullptr;
  record.is_idle_ = false;
  --num_idle_;
}

bool blocking_pool::arm_supervisor_locked(clock::time_point now) noexcept {
  if (supervisor_armed_) return false;  // already watching the queue: no system call
  if (now - window_.at >= 2 * cpu_window()) {
    // After a quiet spell, judge afresh how fast jobs are taken. The window
    // ends as this job is due, so its start is judged on a whole window.
    restart_window_locked(now);
  }
  poke_supervisor_locked();
  return true;
}

void blocking_pool::poke_supervisor_locked() noexcept {
  supervisor_armed_ = true;
  supervisor_awaits_start_ = false;
  // relaxed: the state is under mutex_; bumping the futex word only makes the
  // supervisor's futex_wait (on the value it read under mutex_) return.
  supervisor_seq_.fetch_add(1, std::memory_order_relaxed);
}

pool_thread* blocking_pool::begin_start_locked() noexcept {
  ++num_threads_;
  ++num_starting_;
  pool_thread* record = spare_;
  if (record != nullptr) {
    spare_ = record->live_next_;
    // A late futex_wake aimed at the previous thread may still hit this word:
    // the new thread treats it as a spurious wake-up.
    record->signal_.store(signal_empty, std::memory_order_relaxed);  // published by pthread_create
    record->stop_pending_.store(0, std::memory_order_relaxed);       // published by pthread_create
    record->job_ = nullptr;
    record->live_prev_ = record->live_next_ = nullptr;
  }
  return record;  // null: start_thread allocates one outside the lock
}

void blocking_pool::start_thread(pool_thread* record) noexcept {
  if (record == nullptr) record = new (std::nothrow) pool_thread();
  const int err = record != nullptr ? create_os_thread(*record) : ENOMEM;
  if (err == 0) return;

  blocking_job* orphans = nullptr;
  bool wake_supervisor = false;
  bool wake_shutdown = false;
  {
    std::lock_guard lock(mutex_);
    --num_threads_;
    --num_starting_;
    if (record != nullptr) {
      record->live_next_ = spare_;
      spare_ = record;
    }
    if (num_threads_ == 0) {
      orphans = take_all_queued_locked();  // nobody would ever run them
    } else if (!is_shutdown_) {
      // The queued jobs wait for the busy threads; retry after a back-off so
      // that a refusing OS is not asked again in a hot loop.
      no_start_before_ = clock::now() + config_.spawn_delay;
      poke_supervisor_locked();
      wake_supervisor = true;
    }
    wake_shutdown = is_shutdown_;
    // relaxed: shutdown re-reads num_threads_ under mutex_.
    if (wake_shutdown) exit_seq_.fetch_add(1, std::memory_order_relaxed);
  }
  if (wake_supervisor) futex_wake(supervisor_seq_);
  if (wake_shutdown) futex_wake(exit_seq_, INT_MAX);
  if (orphans != nullptr) {
    const std::system_error error(err, std::system_category(), "weft: cannot start a blocking-pool thread");
    cancel_all(orphans, std::make_exception_ptr(error));
  }
}

int blocking_pool::create_os_thread(pool_thread& record) noexcept {
  if (config_.inject_spawn_failure) {
    if (const int injected = config_.inject_spawn_failure()) return injected;
  }
  // Threads hold a reference, so the pool is alive whenever a start is due;
  // lock() rather than shared_from_this() keeps even a misuse from throwing.
  record.owner_ = weak_from_this().lock();
  if (!record.owner_) return ECANCELED;
  pthread_attr_t attr;
  int err = pthread_attr_init(&attr);
  if (err != 0) return err;
  if (config_.stack_size != 0) err = pthread_attr_setstacksize(&attr, config_.stack_size);
  // The thread joins or detaches itself (see exit_thread): its id is not kept.
  pthread_t id;
  if (err == 0) err = pthread_create(&id, &attr, &thread_entry, &record);
  pthread_attr_destroy(&attr);
  if (err != 0) record.owner_.reset();
  return err;
}

}  // namespace weft::detail

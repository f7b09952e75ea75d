// SPDX-License-Identifier: MIT
// The blocking pool's diagnostics: long-running jobs and dumps (design:
// "Diagnostics" in blocking/pool.hpp). Every function takes mutex_, under
// which a job on a record (job_) or in the queue is alive: the pool drops
// its reference to a job only after clearing job_, or after unlinking it.
#include "blocking/pool.hpp"
#include "blocking/pool_thread.hpp"

#include <mutex>

namespace weft::detail {

namespace {
std::chrono::nanoseconds since(std::chrono::steady_clock::time_point now, std::int64_t then_ns) {
  const auto then = std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(then_ns));
  return now > then ? std::chrono::nanoseconds(now - then) : std::chrono::nanoseconds(0);
}
}  // namespace

bool blocking_pool::has_running_jobs() const noexcept {
  std::lock_guard lock(mutex_);
  for (const pool_thread* r = live_; r != nullptr; r = r->live_next_)
    if (r->job_ != nullptr) return true;
  return false;
}

void blocking_pool::collect_long_running(std::chrono::nanoseconds threshold, std::vector<long_blocking_report>& out) {
  const auto now = clock::now();
  std::lock_guard lock(mutex_);
  for (pool_thread* r = live_; r != nullptr; r = r->live_next_) {
    if (r->job_ == nullptr || r->long_reported_) continue;
    // relaxed: see pool_thread::started_ns_.
    const std::int64_t started = r->started_ns_.load(std::memory_order_relaxed);
    if (started == 0 || since(now, started) < threshold) continue;
    const task_header* task = r->job_->header();
    if (task == nullptr || task->is_complete()) continue;   // bare, or a husk: aborted before it started
    out.push_back(long_blocking_report{task->id(), task->spawned_at(), report_name(), since(now, started)});
    r->long_reported_ = true;
    ++long_blocking_jobs_;
  }
}

void blocking_pool::dump(std::vector<task_snapshot>& out) const {
  const auto now = clock::now();
  const auto add = [&](const blocking_job& job, task_state state) {
    const task_header* task = job.header();
    if (task == nullptr || task->is_complete()) return;   // bare, or aborted: finished, not live
    const task_kind kind = config_.dedicated ? task_kind::dedicated_thread : task_kind::blocking_job;
    out.push_back(
        task_snapshot{task->id(), kind, state, task->spawned_at(), report_name(), since(now, job.submitted_ns_)});
  };
  std::lock_guard lock(mutex_);
  for (const blocking_job* job = head_; job != nullptr; job = job->pool_next_) add(*job, task_state::queued);
  for (const pool_thread* r = live_; r != nullptr; r = r->live_next_) {
    if (r->job_ == nullptr) continue;
    // relaxed: see pool_thread::started_ns_. Claimed but not started: queued.
    const bool started = r->started_ns_.load(std::memory_order_relaxed) != 0;
    add(*r->job_, started ? task_state::running : task_state::queued);
  }
}

}  // namespace weft::detail

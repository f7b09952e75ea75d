// SPDX-License-Identifier: MIT
// The task state machine (see include/weft/detail/task_header.hpp).
//
// Transitions, all by compare-exchange on state_:
//   wake(g):   gen == g, not WOKEN/COMPLETE  -> set WOKEN; if neither RUNNING nor
//              SCHEDULED, also set SCHEDULED and push (the waker pushes).
//   poll:      SCHEDULED -> RUNNING; after the step, RUNNING -> idle, or back to
//              SCHEDULED (pushed again) if WOKEN or CANCEL arrived meanwhile.
//   prepare_suspend: gen += 1, WOKEN cleared (only the polling thread does this).
//   finish:    sets COMPLETE; whoever finishes holds a reference throughout.
// Before a poll leaves a task idle for the first time, the poller hands it to
// its scheduler's list of tasks to cancel at shutdown (ensure_tracked): once
// idle, only a waker can bring it back, and shutdown must be able to find
// it. A task that never goes idle costs the scheduler no bookkeeping.
// A task is pushed only by the thread that set SCHEDULED, so it sits in at most
// one queue and is polled by at most one thread.
#include <weft/detail/task_header.hpp>

#include <atomic>
#include <cstdint>
#include <utility>

namespace weft::detail {

namespace {
thread_local task_header* current_task = nullptr;

// Threads in wait_complete() (block_on, join_handle::get()) sleep on this
// word, not on state_: the state word changes at every poll of the task
// (RUNNING, SCHEDULED, WOKEN), and a wait on it returned at each change, so a
// thread in block_on spun with sched_yield for the whole run — a third of
// the CPU it shared with the worker and a pool thread (blocking_roundtrip
// with a co-runner: three threads taking turns, 8 µs a round trip). Bumped
// by every completion that has a thread waiting; those are rare, so one word
// for all of them costs a spurious wake-up at worst.
std::atomic<std::uint32_t> thread_joins{0};

// Ids are handed to each thread in blocks, so that a spawn does not pay an
// atomic read-modify-write on a line every spawning thread shares.
constexpr task_id id_block = 1024;
std::atomic<task_id> next_id_block{1};
thread_local task_id next_id = 0;
thread_local task_id id_block_end = 0;

task_id new_id() noexcept {
  if (next_id == id_block_end) {
    // relaxed: ids need only be unique, which the read-modify-write gives.
    next_id = next_id_block.fetch_add(id_block, std::memory_order_relaxed);
    id_block_end = next_id + id_block;
  }
  return next_id++;
}
}  // namespace

// -- waker ------------------------------------------------------------------

waker::waker(task_header* task, std::uint32_t generation) noexcept : task_(task), generation_(generation) {
  if (task_) task_->add_ref();
}
waker::waker(const waker& other) noexcept : waker(other.task_, other.generation_) {}
waker::waker(waker&& other) noexcept : task_(std::exchange(other.task_, nullptr)), generation_(other.generation_) {}
waker& waker::operator=(const waker& other) noexcept { return *this = waker(other); }
waker& waker::operator=(waker&& other) noexcept {
  waker taken(std::move(other));   // ends up with the reference this one had, and releases it
  std::swap(task_, taken.task_);
  std::swap(generation_, taken.generation_);
  return *this;
}
waker::~waker() {
  if (task_) task_->release();
}
void waker::wake() const noexcept {
  if (task_) task_->wake(generation_);
}

// -- task_header --------------------------------------------------------------

// Every byte of a spawned task's header stays in memory until its join handle
// is dropped (see the layout note in task_header.hpp).
static_assert(sizeof(void*) != 8 || sizeof(task_header) == 80, "task_header grew: check the layout note");

task_header::task_header(schedule_target* target, std::source_location where, std::uint64_t initial_state,
                         std::uint32_t refs) noexcept
    : target_(target), refs_(refs), id_(new_id()), spawned_at_(where), state_(initial_state) {}

task_header::~task_header() { take_join_waker(); }

void task_header::release() noexcept {
  // acq_rel: the last owner must see every write the others made before
  // releasing, and those writes must be published by their decrement.
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

task_header* task_header::current() noexcept { return current_task; }

task_header::poll_scope::poll_scope(task_header* task) noexcept : previous_(std::exchange(current_task, task)) {}
task_header::poll_scope::~poll_scope() { current_task = previous_; }

waker task_header::prepare_suspend(std::coroutine_handle<> resume_at) noexcept {
  resume_at_ = resume_at;
  std::uint64_t s = state_.load(std::memory_order_relaxed);
  std::uint64_t next;
  do {
    const std::uint64_t generation = (s >> generation_shift) + 1;
    next = ((s & ~woken) & 0xffff'ffffu) | (generation << generation_shift);
  } while (!state_.compare_exchange_weak(s, next, std::memory_order_acq_rel, std::memory_order_relaxed));
  return waker(this, static_cast<std::uint32_t>(next >> generation_shift));
}

void task_header::wake(std::uint32_t generation) noexcept {
  // acquire/release: pairs with poll's acquire of the state word, so what the
  // waking thread wrote before waking (a result, readiness) is seen by the poll.
  std::uint64_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if ((s >> generation_shift) != generation || (s & (woken | complete)) != 0) return;
    const bool push = (s & (running | scheduled)) == 0;
    const std::uint64_t next = s | woken | (push ? scheduled : 0);
    if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel, std::memory_order_acquire)) {
      if (push) push_to_scheduler();
      return;
    }
  }
}

bool task_header::set_join_waiter(waker w) noexcept {
  // The slot is written only while JOIN_WAITER is clear, and finish() reads
  // it only after seeing the flag set (acq_rel on both sides), so the two
  // never touch it at once. Re-arming (timeout waits on a join, then joins)
  // first clears the flag, which fails once finish() may be reading.
  std::uint64_t s = state_.load(std::memory_order_acquire);
  while ((s & join_waiter) != 0) {
    if ((s & complete) != 0) return false;
    if (state_.compare_exchange_weak(s, s & ~join_waiter, std::memory_order_acq_rel, std::memory_order_acquire)) break;
  }
  const waker replaced = take_join_waker();
  join_task_ = std::exchange(w.task_, nullptr);
  join_generation_ = w.generation_;
  s = state_.load(std::memory_order_acquire);
  for (;;) {
    if ((s & complete) != 0) {
      take_join_waker();
      return false;
    }
    if (state_.compare_exchange_weak(s, s | join_waiter, std::memory_order_acq_rel, std::memory_order_acquire))
      return true;
  }
}

void task_header::wait_complete() noexcept {
  std::uint64_t s = state_.load(std::memory_order_acquire);
  while ((s & complete) == 0) {
    if ((s & join_thread) == 0) {
      state_.compare_exchange_weak(s, s | join_thread, std::memory_order_acq_rel, std::memory_order_acquire);
      continue;
    }
    // acquire: if this sees finish()'s bump, it sees COMPLETE below too.
    const std::uint32_t seen = thread_joins.load(std::memory_order_acquire);
    s = state_.load(std::memory_order_acquire);
    if ((s & complete) != 0) return;
    thread_joins.wait(seen, std::memory_order_acquire);
    s = state_.load(std::memory_order_acquire);
  }
}

bool task_header::begin_poll() noexcept {
  // acquire: pairs with the release in wake()/abort() that scheduled us.
  std::uint64_t s = state_.load(std::memory_order_relaxed);
  while (!state_.compare_exchange_weak(s, (s & ~scheduled) | running, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {}
  return (s & cancel) != 0;
}

void task_header::end_poll() noexcept {
  std::uint64_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    // A wake only counts if the step ended at a weft suspension point
    // (resume_at_ set); a foreign awaitable resumes the coroutine itself.
    const bool again = (s & cancel) != 0 || ((s & woken) != 0 && resume_at_);
    // Going idle: from the CAS below on, a waker may push, poll and even
    // complete the task elsewhere, so the scheduler must know it first.
    if (!again && !tracked_) {
      ensure_tracked();
      continue;
    }
    const std::uint64_t next = (s & ~running) | (again ? scheduled : 0);
    if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel, std::memory_order_relaxed)) {
      if (again) push_to_scheduler();
      return;
    }
  }
}

void task_header::cancel_and_schedule() noexcept {
  std::uint64_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    if ((s & (complete | cancel)) != 0) return;
    const bool push = (s & (running | scheduled)) == 0;
    const std::uint64_t next = s | cancel | (push ? scheduled : 0);
    if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel, std::memory_order_acquire)) {
      if (push) push_to_scheduler();
      return;
    }
  }
}

void task_header::finish() noexcept {
  // acq_rel: publishes the result written before; pairs with is_complete()'s
  // acquire and with set_join_waiter's release of the waker slot.
  const std::uint64_t prev = state_.fetch_or(complete, std::memory_order_acq_rel);
  if ((prev & join_waiter) != 0) {
    const waker joiner = take_join_waker();
    joiner.wake();
  }
  if ((prev & join_thread) != 0) {
    // release: orders COMPLETE before the bump (see wait_complete).
    thread_joins.fetch_add(1, std::memory_order_release);
    thread_joins.notify_all();
  }
}

}  // namespace weft::detail

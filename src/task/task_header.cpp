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
// A task is pushed only by the thread that set SCHEDULED, so it sits in at most
// one queue and is polled by at most one thread.
#include <weft/detail/task_header.hpp>

#include <utility>

namespace weft::detail {

namespace {
thread_local task_header* current_task = nullptr;

std::atomic<task_id> next_id{1};
}  // namespace

// -- waker ------------------------------------------------------------------

waker::waker(task_header* task, std::uint32_t generation) noexcept : task_(task), generation_(generation) {
  if (task_) task_->add_ref();
}
waker::waker(const waker& other) noexcept : waker(other.task_, other.generation_) {}
waker::waker(waker&& other) noexcept
    : task_(std::exchange(other.task_, nullptr)), generation_(other.generation_) {}
waker& waker::operator=(waker other) noexcept {
  std::swap(task_, other.task_);
  std::swap(generation_, other.generation_);
  return *this;
}
waker::~waker() {
  if (task_) task_->release();
}
void waker::wake() const noexcept {
  if (task_) task_->wake(generation_);
}

// -- task_header --------------------------------------------------------------

task_header::task_header(schedule_target* target, std::source_location where,
                         std::uint64_t initial_state) noexcept
    : state_(initial_state), target_(target), id_(next_id.fetch_add(1, std::memory_order_relaxed)),
      spawned_at_(where) {}

void task_header::release() noexcept {
  // acq_rel: the last owner must see every write the others made before
  // releasing, and those writes must be published by their decrement.
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

task_header* task_header::current() noexcept { return current_task; }

task_header::poll_scope::poll_scope(task_header* task) noexcept
    : previous_(std::exchange(current_task, task)) {}
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
    if (state_.compare_exchange_weak(s, s & ~join_waiter, std::memory_order_acq_rel, std::memory_order_acquire))
      break;
  }
  join_waker_ = std::move(w);
  s = state_.load(std::memory_order_acquire);
  for (;;) {
    if ((s & complete) != 0) {
      join_waker_ = waker{};
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
    state_.wait(s, std::memory_order_acquire);
    s = state_.load(std::memory_order_acquire);
  }
}

bool task_header::begin_poll() noexcept {
  // acquire: pairs with the release in wake()/abort() that scheduled us.
  std::uint64_t s = state_.load(std::memory_order_relaxed);
  while (!state_.compare_exchange_weak(s, (s & ~scheduled) | running, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
  }
  return (s & cancel) != 0;
}

void task_header::end_poll() noexcept {
  std::uint64_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    // A wake only counts if the step ended at a weft suspension point
    // (resume_at_ set); a foreign awaitable resumes the coroutine itself.
    const bool again = (s & cancel) != 0 || ((s & woken) != 0 && resume_at_);
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
    const waker joiner = std::move(join_waker_);
    joiner.wake();
  }
  if ((prev & join_thread) != 0) state_.notify_all();
}

}  // namespace weft::detail

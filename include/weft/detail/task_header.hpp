// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The header every task carries: its state word, reference count, id and
/// spawn site, and the waker that reschedules it. Internal; not API.

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <source_location>

namespace weft {

/// Identifies a task for the life of the process (ids are never reused).
using task_id = std::uint64_t;

namespace detail {

class task_header;

/// What a task is pushed onto when it is woken: a runtime's scheduler.
class schedule_target {
public:
  virtual void schedule(task_header& task) noexcept = 0;
  /// A spawned task finished: forget it and drop the scheduler's reference.
  virtual void on_complete(task_header& task) noexcept = 0;

protected:
  ~schedule_target() = default;
};

/// A reference to a task plus the suspension it was made for. Waking it
/// reschedules the task exactly once per suspension: a wake for an older
/// suspension, a second wake, or a wake after completion does nothing, so
/// spurious and duplicate wakes are harmless. Any thread may wake.
class waker {
public:
  waker() noexcept = default;
  waker(task_header* task, std::uint32_t generation) noexcept;
  waker(const waker& other) noexcept;
  waker(waker&& other) noexcept;
  waker& operator=(waker other) noexcept;
  ~waker();

  void wake() const noexcept;
  explicit operator bool() const noexcept { return task_ != nullptr; }
  task_header* task() const noexcept { return task_; }

private:
  task_header* task_ = nullptr;
  std::uint32_t generation_ = 0;
};

/// Task states live in one 64-bit word: flags in the low half, the
/// suspension generation in the high half, so that a wake can check "same
/// suspension, not yet woken, not running" in one compare-exchange.
///
/// * SCHEDULED: in a run queue (or about to be pushed). At most one queue
///   holds a task, so it is never polled on two threads at once.
/// * RUNNING: a worker is polling it.
/// * WOKEN: the current suspension has been woken.
/// * COMPLETE: the result (value, exception or cancellation) is published.
/// * CANCEL: abort() was called.
/// * JOIN_WAITER: a join waker is stored; JOIN_THREAD: a thread waits in block_on.
class task_header {
public:
  static constexpr std::uint64_t scheduled = 1u << 0;
  static constexpr std::uint64_t running = 1u << 1;
  static constexpr std::uint64_t woken = 1u << 2;
  static constexpr std::uint64_t complete = 1u << 3;
  static constexpr std::uint64_t cancel = 1u << 4;
  static constexpr std::uint64_t join_waiter = 1u << 5;
  static constexpr std::uint64_t join_thread = 1u << 6;
  static constexpr int generation_shift = 32;

  task_header(const task_header&) = delete;
  task_header& operator=(const task_header&) = delete;

  // -- references -----------------------------------------------------------
  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept;

  // -- driven by the scheduler ---------------------------------------------
  /// Runs the task until it suspends or finishes. Called with SCHEDULED set.
  virtual void poll() noexcept = 0;
  /// Cancels: see join_handle::abort().
  virtual void abort() noexcept = 0;
  /// Signals the stop token of a stop-aware blocking closure.
  virtual void request_stop() noexcept {}
  /// Runtime shutdown: the task will never be polled again; destroy its
  /// frame and complete it as cancelled.
  virtual void shutdown() noexcept {}

  // -- suspension protocol (awaiters call these on the polling thread) -----
  /// Records where to resume and returns the waker for this suspension.
  waker prepare_suspend(std::coroutine_handle<> resume_at) noexcept;
  /// Wakes the given suspension; see waker.
  void wake(std::uint32_t generation) noexcept;

  // -- join -----------------------------------------------------------------
  bool is_complete() const noexcept { return (state_.load(std::memory_order_acquire) & complete) != 0; }
  /// Stores `w` to be woken on completion, replacing an earlier joiner's
  /// waker. False if already complete (then `w` is not kept and the caller
  /// continues at once).
  bool set_join_waiter(waker w) noexcept;
  /// Blocks the calling thread until the task completes.
  void wait_complete() noexcept;

  task_id id() const noexcept { return id_; }
  const std::source_location& spawned_at() const noexcept { return spawned_at_; }
  bool cancel_requested() const noexcept { return (state_.load(std::memory_order_acquire) & cancel) != 0; }

  /// The task being polled on this thread, or null.
  static task_header* current() noexcept;

  /// Intrusive links, owned by whoever holds the task: a run queue uses
  /// queue_next_, the scheduler's list of live tasks uses owned_*.
  task_header* queue_next_ = nullptr;
  task_header* owned_prev_ = nullptr;
  task_header* owned_next_ = nullptr;

protected:
  task_header(schedule_target* target, std::source_location where, std::uint64_t initial_state) noexcept;
  virtual ~task_header() = default;

  /// Publishes completion: sets COMPLETE and wakes the joiner. The caller
  /// holds a reference for the duration.
  void finish() noexcept;
  /// SCHEDULED -> RUNNING; returns true if the task was cancelled.
  bool begin_poll() noexcept;
  /// RUNNING -> idle, or straight back onto the scheduler if the suspension
  /// was woken (or the task cancelled) while it ran.
  void end_poll() noexcept;
  /// Sets CANCEL and, if the task is idle, schedules it so that the next
  /// poll destroys it.
  void cancel_and_schedule() noexcept;
  void on_complete() noexcept { target_->on_complete(*this); }
  /// Pushes the task onto its scheduler (SCHEDULED already set).
  void push_to_scheduler() noexcept { target_->schedule(*this); }

  std::atomic<std::uint64_t> state_;
  std::coroutine_handle<> resume_at_;
  schedule_target* target_;

  struct poll_scope {   // marks this thread as polling `task`
    explicit poll_scope(task_header* task) noexcept;
    ~poll_scope();
    task_header* previous_;
  };

private:
  std::atomic<std::uint32_t> refs_{1};
  task_id id_;
  std::source_location spawned_at_;
  waker join_waker_;
};

}  // namespace detail
}  // namespace weft

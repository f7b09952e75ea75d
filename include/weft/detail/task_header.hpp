// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The header every task carries: its state word, reference count, id and
/// spawn site, and the waker that reschedules it. Internal; not API.

#include <weft/task_id.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <source_location>
#include <utility>

namespace weft {
namespace detail {

class task_header;

/// What a task is pushed onto when it is woken: a runtime's scheduler.
class schedule_target {
public:
  virtual void schedule(task_header& task) noexcept = 0;
  /// A spawned task finished: forget it and drop the scheduler's reference.
  virtual void on_complete(task_header& task) noexcept = 0;
  /// The task is about to go idle for the first time (suspended, nobody has
  /// scheduled it): remember it, so that shutdown can find it and cancel it.
  /// Called once per task, by the thread polling it (see task_header::ensure_tracked).
  virtual void track(task_header&) noexcept {}

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
  waker& operator=(const waker& other) noexcept;
  waker& operator=(waker&& other) noexcept;
  ~waker();

  void wake() const noexcept;
  explicit operator bool() const noexcept { return task_ != nullptr; }
  task_header* task() const noexcept { return task_; }

private:
  friend class task_header;   // keeps a joiner's waker taken apart (see join_task_)
  struct adopt {};
  /// Takes over a reference the caller holds.
  waker(adopt, task_header* task, std::uint32_t generation) noexcept : task_(task), generation_(generation) {}

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
/// * SHUTDOWN_DEFERRED, and a count of borrows in bits 16..31: a run_blocking
///   closure borrows the frame (see frame_borrow.hpp); a shutdown that comes
///   meanwhile is deferred until the last borrow ends.
class task_header {
public:
  static constexpr std::uint64_t scheduled = 1u << 0;
  static constexpr std::uint64_t running = 1u << 1;
  static constexpr std::uint64_t woken = 1u << 2;
  static constexpr std::uint64_t complete = 1u << 3;
  static constexpr std::uint64_t cancel = 1u << 4;
  static constexpr std::uint64_t join_waiter = 1u << 5;
  static constexpr std::uint64_t join_thread = 1u << 6;
  static constexpr std::uint64_t shutdown_deferred = 1u << 7;
  static constexpr std::uint64_t borrow_one = 1u << 16;
  static constexpr std::uint64_t borrow_mask = 0xffffu << 16;
  static constexpr int generation_shift = 32;

  task_header(const task_header&) = delete;
  task_header& operator=(const task_header&) = delete;
  /// Public and virtual: the last release() deletes the task through its header.
  virtual ~task_header();

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

  // -- frame borrows (run_blocking; see frame_borrow.hpp) ---------------------
  /// The task whose poll polls this one inline (a when_all/when_any
  /// operation's parent), or null for a task the scheduler polls.
  virtual task_header* parent() const noexcept { return nullptr; }
  /// Completes a shutdown deferred by defer_shutdown_while_borrowed(), on
  /// the thread that ended the last borrow.
  virtual void finish_deferred_shutdown() noexcept {}
  /// True while a run_blocking closure borrows this task's frame (or the
  /// frame of an operation polled inside it).
  bool is_borrowed() const noexcept { return (state_.load(std::memory_order_acquire) & borrow_mask) != 0; }
  /// For shutdown(): if the frame is borrowed, records that the shutdown
  /// must be finished by the last borrow (finish_deferred_shutdown), asks
  /// every borrowing closure to cancel, and returns true. Only the thread
  /// that may destroy the frame calls it.
  bool defer_shutdown_while_borrowed() noexcept { return is_borrowed() && defer_shutdown_slow(); }

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
  /// The state flags (SCHEDULED, RUNNING, ...), for dumps: a snapshot.
  std::uint64_t state_flags() const noexcept { return state_.load(std::memory_order_acquire) & 0xffff'ffffu; }

  /// The task being polled on this thread, or null.
  static task_header* current() noexcept;

  /// Intrusive link of the run queue that holds the task (the inject
  /// queue), owned by whoever holds the task.
  task_header* queue_next_ = nullptr;

  /// Hands the task to its scheduler's list of tasks to cancel at shutdown,
  /// once in its life. A task that is never idle — queued, polled, done — is
  /// never tracked: the queues are how shutdown finds it. Only the thread
  /// that polls the task, or holds it exclusively (a queue owner, shutdown),
  /// calls this; the polls of one task are ordered by its state word.
  void ensure_tracked() noexcept {
    if (tracked_) return;
    tracked_ = true;
    target_->track(*this);
  }
  bool is_tracked() const noexcept { return tracked_; }

  /// The join handle's await-once flag: true the first time only. Only the
  /// thread using the handle calls it.
  bool claim_join() noexcept { return !std::exchange(join_claimed_, true); }

  /// Borrow counting, by frame_borrow only. end_borrow returns true if the
  /// count reached zero with a shutdown deferred.
  void begin_borrow() noexcept;
  bool end_borrow() noexcept;

protected:
  /// Starts with `refs` references (a spawned task starts with two). One
  /// constructor with a default, not a delegating inline one: clang emits no
  /// complete-object constructor for an abstract class, which g++ code calls
  /// when it delegates, so a g++ program could not link a clang-built weft.
  task_header(schedule_target* target, std::source_location where, std::uint64_t initial_state,
              std::uint32_t refs = 1) noexcept;

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

  struct poll_scope {   // marks this thread as polling `task`
    explicit poll_scope(task_header* task) noexcept;
    poll_scope(const poll_scope&) = delete;
    poll_scope& operator=(const poll_scope&) = delete;
    ~poll_scope();
    task_header* previous_;
  };

  // The data members are declared in layout order, access sections
  // interleaved (see the note below).
  std::coroutine_handle<> resume_at_;
  schedule_target* target_;

private:
  friend class owned_tasks;
  bool defer_shutdown_slow() noexcept;

  /// Takes the joiner's waker (see set_join_waiter) out of join_task_ and
  /// join_generation_, leaving the slot empty.
  waker take_join_waker() noexcept {
    return waker(waker::adopt{}, std::exchange(join_task_, nullptr), join_generation_);
  }

  // Laid out so that the header is 80 bytes and a spawned task 96: every
  // byte stays in memory until the join handle goes, and a flood of spawns
  // pays a page fault per 4 KiB of them (16 more bytes a task cost 10% of
  // spawn_throughput). Hence the joiner's waker kept in two fields, its
  // generation sharing a word with the flags. The state word comes last,
  // next to the join flag and the result that join_state puts right after
  // it, so that awaiting a finished task mostly reads one cache line.
  std::atomic<std::uint32_t> refs_;
  std::uint32_t owned_index_ = 0;   // the task's slot in owned_tasks, under its lock
  task_id id_;
  std::source_location spawned_at_;
  task_header* join_task_ = nullptr;   // with join_generation_: the joiner's waker, holding its reference
  std::uint32_t join_generation_ = 0;
  bool tracked_ = false;        // see ensure_tracked()
  bool join_claimed_ = false;   // see claim_join()

protected:
  std::atomic<std::uint64_t> state_;
};

}  // namespace detail
}  // namespace weft

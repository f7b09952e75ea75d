// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// A task polled by another task, on that task's thread, instead of being
/// spawned: timeout's operation. Internal; not API.
///
/// Why: a spawned operation costs a trip through the run queues (and maybe
/// to another worker and back) and, when cancelled, a join_error that
/// nobody reads. Polled inline, the operation runs where its parent runs;
/// a wake of the operation marks it woken and wakes the parent, which polls
/// it again.

#include <weft/detail/task_header.hpp>
#include <weft/task.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <source_location>
#include <utility>

namespace weft::detail {

/// The part that does not depend on the result type (src/task/inline_task.cpp).
///
/// Thread safety: the parent polls and reads on its thread; wakes of the
/// operation arrive on any thread and go through schedule(), which only
/// marks and wakes the parent.
class inline_task_base : public task_header, private schedule_target {
public:
  /// True (and cleared) if the operation was woken since the last call:
  /// the parent should poll it. True before the first poll.
  bool take_woken() noexcept { return woken_.exchange(false); }
  bool is_woken() const noexcept { return woken_.load(); }
  bool is_done() const noexcept { return done_; }

  /// The parent is about to suspend with `parent`: a wake of the operation
  /// wakes it. False if the operation was woken meanwhile (do not suspend).
  bool set_parent(waker parent) noexcept;
  void clear_parent() noexcept;

  void abort() noexcept override {}   // never aborted: its parent discards it

  /// The task polling this one: a run_blocking inside the operation borrows
  /// that task's frame too (frame_borrow.hpp), so aborting it waits.
  task_header* parent() const noexcept override { return parent_task_; }

  /// Public: deleted through task_header by the last release(), as any task.
  ~inline_task_base() override = default;

protected:
  inline_task_base() noexcept : task_header(this, std::source_location::current(), scheduled) {}

  bool done_ = false;   // the parent's thread only
  task_header* const parent_task_ = task_header::current();

private:
  // schedule_target: where the operation's wakes land.
  void schedule(task_header&) noexcept override;
  void on_complete(task_header&) noexcept override {}
  void track(task_header&) noexcept override {}   // its parent's frame owns it

  void lock() noexcept;
  void unlock() noexcept;

  std::atomic<bool> woken_{true};
  std::atomic<bool> locked_{false};   // guards parent_
  waker parent_;
};

/// The operation of `frame`, polled inline. Reference counted as any task
/// (wakers may outlive the parent's interest); the parent holds one.
template <class T>
class inline_task final : public inline_task_base {
public:
  using frame_type = std::coroutine_handle<task_promise<T>>;

  static void* operator new(std::size_t size) { return allocate_task_memory(size); }
  static void operator delete(void* self, std::size_t size) noexcept { free_task_memory(self, size); }

  explicit inline_task(task<T> t) noexcept : frame_(access::release(t)) {
    // NOLINTNEXTLINE(cppcoreguidelines-prefer-member-initializer): task_header's member, not this class's
    this->resume_at_ = frame_;
  }
  inline_task(const inline_task&) = delete;
  inline_task& operator=(const inline_task&) = delete;

  /// Runs the operation on the calling thread until it suspends or finishes.
  void poll() noexcept override {
    (void)this->begin_poll();
    {
      poll_scope scope(this);
      if (auto at = std::exchange(this->resume_at_, {})) at.resume();
    }
    if (frame_.done()) {
      done_ = true;
      this->finish();   // later wakes of it do nothing
      return;
    }
    this->end_poll();
  }

  /// The result, or the operation's exception rethrown. Preconditions: is_done().
  T take() { return frame_.promise().take(); }

  /// The parent lets go: the frame is destroyed now (cancelling an
  /// unfinished operation: its awaiters deregister), then the reference.
  void discard() noexcept {
    if (frame_) std::exchange(frame_, {}).destroy();
    clear_parent();
    this->release();
  }

private:
  ~inline_task() override {
    if (frame_) frame_.destroy();
  }

  frame_type frame_;
};

/// The parent's owning reference: discards the operation when it goes.
template <class T>
class inline_task_ref {
public:
  explicit inline_task_ref(task<T> t) : task_(new inline_task<T>(std::move(t))) {}
  inline_task_ref(const inline_task_ref&) = delete;
  inline_task_ref& operator=(const inline_task_ref&) = delete;
  ~inline_task_ref() { reset(); }

  inline_task<T>* operator->() const noexcept { return task_; }
  inline_task<T>& operator*() const noexcept { return *task_; }
  void reset() noexcept {
    if (task_) std::exchange(task_, nullptr)->discard();
  }

private:
  inline_task<T>* task_;
};

}  // namespace weft::detail

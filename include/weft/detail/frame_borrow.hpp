// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The hook that lets run_blocking lend a task's frame to a blocking
/// closure: while the borrow lasts, the frame is not destroyed — a shutdown
/// or abort of the task is deferred, and a when_all/when_any waits before
/// releasing the operation. Internal; not API.
///
/// How it works:
/// * begin() counts one borrow on the task being polled and on every
///   parent() up to the task the scheduler polls (the root), holding a
///   reference on each, and enters the borrow in a process-wide registry.
/// * The root's shutdown() calls task_header::defer_shutdown_while_borrowed():
///   if the count is not zero it sets SHUTDOWN_DEFERRED (one
///   compare-exchange on the state word, so it cannot miss the last end()),
///   asks every borrow under it to cancel_borrow(), and returns without
///   destroying the frame.
/// * end() uncounts; the end() that takes the root's count to zero with
///   SHUTDOWN_DEFERRED set calls finish_deferred_shutdown() — the frame is
///   destroyed there, on the blocking thread that ran the closure.
/// * A combinator releasing an operation whose header is_borrowed() calls
///   cancel_borrows_under(op) and waits for the operation's wake, which
///   comes after end().

#include <weft/detail/task_header.hpp>

namespace weft::detail {

class frame_borrow {
public:
  frame_borrow(const frame_borrow&) = delete;
  frame_borrow& operator=(const frame_borrow&) = delete;

  /// Starts borrowing the frame of `task` (the task being polled) and of
  /// its parents. Called once, on the polling thread.
  void begin(task_header& task) noexcept;
  /// Ends the borrow; may destroy the root's frame (see above). Called
  /// once, after begin(); the caller must not touch the frame afterwards.
  void end() noexcept;

  /// Cancels the borrowing work: if it has not started it never runs and
  /// the borrow ends now; if it runs, it is asked to stop. Any thread.
  virtual void cancel_borrow() noexcept = 0;
  /// Keep the borrow object alive while cancel_borrows_under() uses it.
  virtual void add_borrow_ref() noexcept = 0;
  virtual void release_borrow_ref() noexcept = 0;

  /// Public and virtual. A borrow_job deletes itself, never through this
  /// base, but protected and non-virtual is not an option: g++'s
  /// -Wnon-virtual-dtor counts the friend borrow_registry as access from outside.
  virtual ~frame_borrow() = default;

protected:
  frame_borrow() noexcept = default;

private:
  friend struct borrow_registry;
  task_header* task_ = nullptr;   // innermost borrowed header
  frame_borrow* prev_ = nullptr;  // registry links, under its mutex
  frame_borrow* next_ = nullptr;
};

/// Calls cancel_borrow() on every borrow of `task`'s frame or of a frame
/// polled inside it. Does not wait.
void cancel_borrows_under(task_header& task) noexcept;

}  // namespace weft::detail

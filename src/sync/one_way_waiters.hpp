// SPDX-License-Identifier: MIT
#pragma once
// Tasks waiting for a condition that, once true, they may all go on from:
// a cancellation_token cancelled, a task_tracker closed and empty. The
// condition is read and the waiter queued under the owner's mutex, and the
// owner wakes every waiter (under the same mutex, then released) when the
// condition becomes true, so no wake is lost.
#include <weft/detail/waiter_list.hpp>

#include <coroutine>
#include <mutex>

namespace weft::detail {

/// Awaits `is_done()` (called under `mutex`). Cancellation: destroying the
/// awaiting frame unlinks the node.
template <class Done>
class one_way_awaiter {
public:
  one_way_awaiter(std::mutex& mutex, waiter_list& waiters, Done is_done) noexcept
      : mutex_(mutex), waiters_(waiters), is_done_(is_done) {}
  one_way_awaiter(const one_way_awaiter&) = delete;
  one_way_awaiter& operator=(const one_way_awaiter&) = delete;
  ~one_way_awaiter() {
    std::lock_guard lock(mutex_);
    node_.unlink();
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> resume_at) {
    require_task();
    std::lock_guard lock(mutex_);
    if (is_done_()) return false;
    node_.waker_ = suspend_current(resume_at);
    waiters_.push_back(node_);
    return true;
  }
  void await_resume() const noexcept {}

private:
  std::mutex& mutex_;
  waiter_list& waiters_;
  Done is_done_;
  waiter_node node_;
};

}  // namespace weft::detail

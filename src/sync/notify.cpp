// SPDX-License-Identifier: MIT
// weft::notify (see include/weft/sync/notify.hpp).
//
// State, all under mutex_: a stored permit (at most one), the FIFO of
// waiters, and the count of notify_waiters() calls. A notified() records the
// count when it is created; if the count has moved by the time it is awaited,
// a notify_waiters() came in between and it completes at once (Tokio's rule:
// creating the future registers interest in notify_waiters).
//
// notify_one() hands its notification to the head waiter under the mutex
// (status granted) before waking it. A waiter destroyed between that and its
// resumption passes the notification on: to the next waiter, or into the
// permit — so notify_one is never lost to a cancellation. Waiters woken by
// notify_waiters() are marked notified: nothing to pass on.
#include <weft/sync/notify.hpp>

namespace weft {

void notify::notify_one() noexcept {
  std::unique_lock lock(mutex_);
  notify_one_locked(lock);
}

void notify::notify_one_locked(std::unique_lock<std::mutex>& lock) noexcept {
  detail::waiter_node* head = waiters_.pop_front();
  if (!head) {
    has_permit_ = true;
    lock.unlock();
    return;
  }
  head->status_ = detail::waiter_status::granted;
  const detail::waker w = std::move(head->waker_);
  lock.unlock();
  w.wake();   // after unlocking: the node may be gone already, w is ours
}

void notify::notify_waiters() noexcept {
  std::unique_lock lock(mutex_);
  ++num_waiters_calls_;
  detail::wake_all(waiters_, detail::waiter_status::notified, lock);
}

notify::notified_op notify::notified() noexcept {
  std::lock_guard lock(mutex_);
  return notified_op(*this, num_waiters_calls_);
}

bool notify::consume_or_wait(detail::waiter_node& node, std::uint64_t created_at,
                             std::coroutine_handle<> resume_at) noexcept {
  std::lock_guard lock(mutex_);
  if (num_waiters_calls_ != created_at) return true;
  if (has_permit_) {
    has_permit_ = false;
    return true;
  }
  node.waker_ = detail::suspend_current(resume_at);
  waiters_.push_back(node);
  return false;
}

void notify::cancel(detail::waiter_node& node) noexcept {
  std::unique_lock lock(mutex_);
  if (node.is_linked()) {
    node.unlink();
  } else if (node.status_ == detail::waiter_status::granted) {
    notify_one_locked(lock);   // pass the notification on
    return;
  }
  node.status_ = detail::waiter_status::idle;
}

}  // namespace weft

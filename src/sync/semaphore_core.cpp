// SPDX-License-Identifier: MIT
// The fair semaphore under weft::semaphore, weft::mutex and bounded mpsc
// senders (see include/weft/detail/semaphore_core.hpp).
//
// State, all under mutex_: permits_ free permits, and a FIFO of waiters each
// wanting needed_ permits. Invariant between calls: the queue is empty, or
// its head wants more than permits_ (otherwise it would have been granted).
//
// Granting happens under the mutex — permits are subtracted and the node is
// unlinked and marked granted before its waker is moved out — and waking
// happens after the mutex is released, in batches of wake_batch::capacity.
// So a resumed acquire owns its permits, and a frame destroyed between grant
// and resumption finds status_ granted and gives them back (cancel()).
#include <weft/detail/semaphore_core.hpp>

#include <stdexcept>
#include <utility>

namespace weft::detail {

semaphore_core::semaphore_core(std::size_t permits) : permits_(permits) {
  if (permits > max_permits) throw std::invalid_argument("weft: semaphore permits exceed semaphore::max_permits");
}

bool semaphore_core::try_acquire(std::size_t n) noexcept {
  std::lock_guard lock(mutex_);
  if (is_closed_ || !waiters_.empty() || permits_ < n) return false;
  permits_ -= n;
  return true;
}

bool semaphore_core::acquire_or_wait(waiter& node, std::size_t n, std::coroutine_handle<> resume_at) noexcept {
  std::lock_guard lock(mutex_);
  if (is_closed_) {
    node.status_ = waiter_status::closed;
    return true;
  }
  if (waiters_.empty() && permits_ >= n) {
    permits_ -= n;
    node.status_ = waiter_status::granted;
    return true;
  }
  node.needed_ = n;
  // The waker is made under the mutex, so no grant can see the node without it.
  node.waker_ = suspend_current(resume_at);
  waiters_.push_back(node);
  return false;
}

void semaphore_core::release(std::size_t n) noexcept {
  std::unique_lock lock(mutex_);
  permits_ += n;
  grant_waiters(lock);
}

void semaphore_core::add_permits(std::size_t n) {
  std::unique_lock lock(mutex_);
  if (n > max_permits - permits_) throw std::invalid_argument("weft: add_permits would exceed semaphore::max_permits");
  permits_ += n;
  grant_waiters(lock);
}

void semaphore_core::cancel(waiter& node) noexcept {
  std::unique_lock lock(mutex_);
  if (node.is_linked()) {
    // Still queued: leave. If it was the head, the next ones may fit now.
    node.unlink();
    node.status_ = waiter_status::idle;
  } else if (node.status_ == waiter_status::granted) {
    // Granted but never resumed: the permits go back (to the next waiter).
    node.status_ = waiter_status::idle;
    permits_ += node.needed_;
  } else {
    return;   // closed: nothing was given
  }
  grant_waiters(lock);
}

void semaphore_core::close() noexcept {
  std::unique_lock lock(mutex_);
  is_closed_ = true;
  wake_all(waiters_, waiter_status::closed, lock);
}

bool semaphore_core::is_closed() const noexcept {
  std::lock_guard lock(mutex_);
  return is_closed_;
}

std::size_t semaphore_core::available() const noexcept {
  std::lock_guard lock(mutex_);
  return permits_;
}

void semaphore_core::grant_waiters(std::unique_lock<std::mutex>& lock) noexcept {
  for (;;) {
    wake_batch batch;
    while (!batch.is_full()) {
      auto* head = static_cast<waiter*>(waiters_.front());
      if (!head || head->needed_ > permits_) break;
      permits_ -= head->needed_;
      waiters_.pop_front();
      head->status_ = waiter_status::granted;
      batch.add(std::move(head->waker_));
    }
    // Full batch: wake it with the mutex released, then look again.
    const bool is_full = batch.is_full();
    lock.unlock();
    batch.wake_all();
    if (!is_full) return;
    lock.lock();
  }
}

}  // namespace weft::detail

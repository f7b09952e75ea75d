// SPDX-License-Identifier: MIT
// task_tracker: a count of live tracked tasks and a closed flag under one
// mutex, and the waiters of "closed and empty". A ticket in each tracked
// task's frame counts it; the ticket whose destruction empties a closed
// tracker (or the close() of an empty one) wakes the waiters.
#include "sync/one_way_waiters.hpp"

#include <weft/combinators.hpp>

#include <atomic>
#include <mutex>

namespace weft::detail {

class tracker_state {
public:
  void add() noexcept {
    std::lock_guard lock(mutex_);
    ++count_;
  }
  void remove() noexcept {
    std::unique_lock lock(mutex_);
    --count_;
    if (is_done()) wake_all(waiters_, waiter_status::notified, lock);
  }
  void set_closed(bool closed) noexcept {
    std::unique_lock lock(mutex_);
    closed_ = closed;
    if (is_done()) wake_all(waiters_, waiter_status::notified, lock);
  }
  bool is_closed() const noexcept {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  std::size_t size() const noexcept {
    std::lock_guard lock(mutex_);
    return count_;
  }
  task<void> wait() {
    auto done = [this] { return is_done(); };
    co_await one_way_awaiter<decltype(done)>(mutex_, waiters_, done);
  }

private:
  bool is_done() const noexcept { return closed_ && count_ == 0; }

  mutable std::mutex mutex_;   // guards count_, closed_ and waiters_
  std::size_t count_ = 0;
  bool closed_ = false;
  waiter_list waiters_;
};

tracker_ticket::tracker_ticket(std::shared_ptr<tracker_state> state) noexcept : state_(std::move(state)) {
  state_->add();
}
tracker_ticket::~tracker_ticket() {
  if (state_) state_->remove();
}

}  // namespace weft::detail

namespace weft {

task_tracker::task_tracker() : state_(std::make_shared<detail::tracker_state>()) {}
void task_tracker::close() noexcept { state_->set_closed(true); }
void task_tracker::reopen() noexcept { state_->set_closed(false); }
bool task_tracker::is_closed() const noexcept { return state_->is_closed(); }
std::size_t task_tracker::size() const noexcept { return state_->size(); }

task<void> task_tracker::wait() const {
  const std::shared_ptr<detail::tracker_state> state = state_;
  co_await state->wait();
}

}  // namespace weft

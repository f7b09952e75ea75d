// SPDX-License-Identifier: MIT
// cancellation_token: a shared flag with waiters, a std::stop_source and
// children. A parent keeps weak references to its children (pruned as it
// makes new ones), so a loop making short-lived children does not grow it.
// cancel() takes the waiters and children under the mutex, then — released
// — wakes the waiters, requests stop (running the stop callbacks) and
// cancels the children, so no user code runs under the lock.
#include "sync/one_way_waiters.hpp"

#include <weft/combinators.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

namespace weft::detail {

class cancellation_state {
public:
  bool is_cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }

  void cancel() noexcept {
    std::vector<std::weak_ptr<cancellation_state>> children;
    std::unique_lock lock(mutex_);
    // relaxed: written only under mutex_, which we hold.
    if (cancelled_.load(std::memory_order_relaxed)) return;
    // release: pairs with is_cancelled()'s acquire.
    cancelled_.store(true, std::memory_order_release);
    children.swap(children_);
    wake_all(waiters_, waiter_status::notified, lock);   // releases the lock
    stop_.request_stop();
    for (auto& weak : children)
      if (auto child = weak.lock()) child->cancel();
  }

  std::shared_ptr<cancellation_state> make_child(const std::shared_ptr<cancellation_state>&) {
    auto child = std::make_shared<cancellation_state>();
    {
      std::lock_guard lock(mutex_);
      if (!cancelled_.load(std::memory_order_relaxed)) {   // relaxed: under mutex_
        std::erase_if(children_, [](const auto& weak) { return weak.expired(); });
        children_.push_back(child);
        return child;
      }
    }
    child->cancel();   // made after the parent's cancel: starts cancelled
    return child;
  }

  task<void> wait() {
    // relaxed: called under mutex_ (one_way_awaiter), which orders it with cancel().
    auto done = [this] { return cancelled_.load(std::memory_order_relaxed); };
    co_await one_way_awaiter<decltype(done)>(mutex_, waiters_, done);
  }

  std::stop_token token() const noexcept { return stop_.get_token(); }

private:
  std::mutex mutex_;   // guards children_, waiters_, and the false -> true step of cancelled_
  std::atomic<bool> cancelled_{false};
  std::vector<std::weak_ptr<cancellation_state>> children_;
  waiter_list waiters_;
  std::stop_source stop_;
};

}  // namespace weft::detail

namespace weft {

cancellation_token::cancellation_token() : state_(std::make_shared<detail::cancellation_state>()) {}
cancellation_token::cancellation_token(std::shared_ptr<detail::cancellation_state> state) noexcept
    : state_(std::move(state)) {}

void cancellation_token::cancel() noexcept { state_->cancel(); }
bool cancellation_token::is_cancelled() const noexcept { return state_->is_cancelled(); }
cancellation_token cancellation_token::child() const { return cancellation_token(state_->make_child(state_)); }

task<void> cancellation_token::cancelled() const {
  const std::shared_ptr<detail::cancellation_state> state = state_;   // kept by this frame
  co_await state->wait();
}

std::stop_token cancellation_token::stop_token() const noexcept { return state_->token(); }

}  // namespace weft

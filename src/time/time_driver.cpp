// SPDX-License-Identifier: MIT
#include "time/time_driver.hpp"

#include <chrono>

namespace weft::detail {

namespace {
// Outside the mutex: a fire is a wake, which may take other locks.
void fire(timer_list& due) noexcept {
  while (timer_entry* entry = due.pop_front()) entry->fire();
}
}  // namespace

time_driver::time_driver(std::function<void()> unpark_hook) : unpark_hook_(std::move(unpark_hook)), wheel_(now_ns()) {}

std::uint64_t time_driver::now_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

void time_driver::insert(timer_entry& entry, std::uint64_t deadline_ns) noexcept {
  bool unpark = false;
  {
    std::lock_guard lock(mutex_);
    wheel_.insert(entry, deadline_ns);
    if (deadline_ns < earliest_ns_.load(std::memory_order_relaxed))
      earliest_ns_.store(deadline_ns, std::memory_order_relaxed);
    unpark = sleeping_until_ != not_sleeping && deadline_ns < sleeping_until_;
    if (unpark) sleeping_until_ = deadline_ns;   // one unpark per earlier deadline
  }
  if (unpark) unpark_hook_();
}

bool time_driver::remove(timer_entry& entry) noexcept {
  std::lock_guard lock(mutex_);
  if (!entry.is_pending()) return false;
  wheel_.remove(entry);
  return true;
}

std::optional<std::uint64_t> time_driver::begin_sleep() noexcept {
  std::lock_guard lock(mutex_);
  const std::optional<std::uint64_t> next = wheel_.next_expiration();
  sleeping_until_ = next ? *next : sleeping_forever;
  return next;
}

void time_driver::process() noexcept {
  timer_list due;
  {
    std::lock_guard lock(mutex_);
    sleeping_until_ = not_sleeping;
    take_due_locked(now_ns(), due);
  }
  fire(due);
}

void time_driver::fire_due(std::uint64_t now_ns) noexcept {
  if (now_ns < earliest_ns_.load(std::memory_order_relaxed)) return;
  timer_list due;
  {
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock) return;   // another thread holds the wheel: the next check fires it
    take_due_locked(now_ns, due);
  }
  fire(due);
}

void time_driver::take_due_locked(std::uint64_t now_ns, timer_list& due) noexcept {
  wheel_.poll(now_ns, due);
  earliest_ns_.store(wheel_.next_expiration().value_or(sleeping_forever), std::memory_order_relaxed);
}

std::size_t time_driver::num_pending() const noexcept {
  std::lock_guard lock(mutex_);
  return wheel_.size();
}

}  // namespace weft::detail

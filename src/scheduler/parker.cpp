// SPDX-License-Identifier: MIT
#include "scheduler/parker.hpp"

namespace weft::detail {

bool parker::park() noexcept {
  // acquire on consuming a notification: pairs with unpark()'s exchange, so
  // what the notifier pushed before unparking is visible.
  std::uint32_t expected = notified;
  if (state_.compare_exchange_strong(expected, empty, std::memory_order_acquire)) return false;

  if (driver_.driver && driver_.in_use.try_lock()) {
    expected = empty;
    if (state_.compare_exchange_strong(expected, parked_driver, std::memory_order_acq_rel)) {
      driver_.driver->park();
    }
    driver_.in_use.unlock();
    state_.exchange(empty, std::memory_order_acquire);
    return true;
  }

  expected = empty;
  if (!state_.compare_exchange_strong(expected, parked_futex, std::memory_order_acq_rel)) {
    state_.exchange(empty, std::memory_order_acquire);   // notified meanwhile
    return false;
  }
  while (state_.load(std::memory_order_acquire) == parked_futex) state_.wait(parked_futex, std::memory_order_acquire);
  state_.exchange(empty, std::memory_order_acquire);
  return false;
}

void parker::unpark() noexcept {
  switch (state_.exchange(notified, std::memory_order_acq_rel)) {
  case parked_futex:
    state_.notify_one();
    break;
  case parked_driver:
    driver_.driver->unpark();
    break;
  default:
    break;   // not parked yet: park() will see the notification
  }
}

}  // namespace weft::detail

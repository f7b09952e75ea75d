// SPDX-License-Identifier: MIT
#include "scheduler/parker.hpp"

#include "util/cpu_relax.hpp"

#include <chrono>

namespace weft::detail {

bool parker::park() noexcept {
  // acquire on consuming a notification: pairs with unpark()'s exchange, so
  // what the notifier pushed before unparking is visible.
  std::uint32_t expected = notified;
  if (state_.compare_exchange_strong(expected, empty, std::memory_order_acquire)) return false;

  if (driver_.driver && acquire_driver()) {
    expected = empty;
    if (state_.compare_exchange_strong(expected, parked_driver, std::memory_order_acq_rel)) {
      // relaxed: a hint for acquire_driver(); the mutex orders everything else.
      driver_.has_sleeper.store(true, std::memory_order_relaxed);
      driver_.driver->park();
      driver_.has_sleeper.store(false, std::memory_order_relaxed);
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

bool parker::acquire_driver() noexcept {
  if (driver_.in_use.try_lock()) return true;
  // A searching worker polls the driver for about a microsecond at a time; if
  // that is what holds it, wait for it rather than sleep on the futex and
  // leave nobody in the driver. A worker that sleeps in it holds it until
  // woken: then the futex is the place to sleep.
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
  while (!driver_.has_sleeper.load(std::memory_order_relaxed) && state_.load(std::memory_order_relaxed) != notified &&
         std::chrono::steady_clock::now() < until) {
    cpu_relax();
    if (driver_.in_use.try_lock()) return true;
  }
  return false;
}

void parker::unpark() noexcept {
  switch (state_.exchange(notified, std::memory_order_acq_rel)) {
  case parked_futex: state_.notify_one(); break;
  case parked_driver: driver_.driver->unpark(); break;
  default: break;   // not parked yet: park() will see the notification
  }
}

}  // namespace weft::detail

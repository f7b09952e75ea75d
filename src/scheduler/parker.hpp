// SPDX-License-Identifier: MIT
#pragma once
// Parks one idle worker. If the runtime has a driver and nobody else is in
// it, the worker sleeps in the driver (so timers and I/O are processed by an
// idle worker); otherwise it sleeps on a futex. unpark() knows which and wakes
// the right one. A notification that arrives before park() is kept, so
// wake-ups are never lost.
#include "scheduler/park_driver.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>

namespace weft::detail {

/// The driver and the lock that lets one worker at a time sleep in it.
struct shared_driver {
  park_driver* driver = nullptr;
  std::mutex in_use;   // held by the worker sleeping in the driver, or briefly by one polling it
  std::atomic<bool> has_sleeper{false};   // the holder of in_use sleeps (vs. a quick poll)
};

class parker {
public:
  explicit parker(shared_driver& driver) noexcept : driver_(driver) {}

  /// Sleeps until unpark() (or, in the driver, until an event or deadline).
  /// Returns true if it slept in the driver.
  bool park() noexcept;
  void unpark() noexcept;

private:
  enum : std::uint32_t { empty, parked_futex, parked_driver, notified };
  bool acquire_driver() noexcept;
  shared_driver& driver_;
  std::atomic<std::uint32_t> state_{empty};
};

}  // namespace weft::detail

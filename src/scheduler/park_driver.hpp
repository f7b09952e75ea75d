// SPDX-License-Identifier: MIT
#pragma once
// What an idle worker may sleep in besides a futex: the runtime's driver
// (epoll for I/O readiness and timer deadlines). The scheduler knows only this
// interface; runtime/ supplies the implementation, so scheduler/ never sees
// time/ or io/.
namespace weft::detail {

class park_driver {
public:
  /// Blocks until unpark(), an I/O event or the next timer deadline, then
  /// wakes the tasks that became ready. One thread at a time.
  virtual void park() noexcept = 0;
  /// Wakes the same processing without blocking (a busy worker's check).
  virtual void poll_ready() noexcept = 0;
  /// Fires the timers that are due, without I/O or blocking: a busy worker's
  /// frequent, cheap check (no clock read while no timer is armed).
  virtual void fire_due_timers() noexcept = 0;
  /// Makes a concurrent or the next park() return promptly. Any thread.
  virtual void unpark() noexcept = 0;

protected:
  ~park_driver() = default;
};

}  // namespace weft::detail

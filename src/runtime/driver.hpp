// SPDX-License-Identifier: MIT
#pragma once
// The runtime's driver: what an idle worker sleeps in. It joins the I/O
// reactor (epoll) and the time driver (the timer wheel): the sleeping worker
// waits in epoll_pwait2 with the earliest timer deadline as a nanosecond
// timeout, then wakes the tasks whose I/O became ready and fires the timers
// that are due — on its own thread, so the woken tasks land in that worker's
// queue and run there without a further hand-off.
#include "io/reactor.hpp"
#include "scheduler/park_driver.hpp"
#include "time/time_driver.hpp"

namespace weft::detail {

class driver final : public park_driver {
public:
  driver();

  void park() noexcept override;
  void poll_ready() noexcept override;
  void fire_due_timers() noexcept override {
    if (timers_.has_armed()) timers_.fire_due(time_driver::now_ns());
  }
  void unpark() noexcept override { io_.unpark(); }

  reactor& io() noexcept { return io_; }
  time_driver& timers() noexcept { return timers_; }

private:
  void learn_oversleep(std::uint64_t oversleep_ns) noexcept;

  reactor io_;
  time_driver timers_;
  std::uint64_t early_wake_ns_ = 25'000;   // only the thread in park() touches it
};

}  // namespace weft::detail

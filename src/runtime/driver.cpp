// SPDX-License-Identifier: MIT
#include "runtime/driver.hpp"

#include <chrono>

namespace weft::detail {

driver::driver() : timers_([this] { io_.unpark(); }) {}

void driver::park() noexcept {
  std::optional<std::chrono::nanoseconds> timeout;
  if (const std::optional<std::uint64_t> next = timers_.begin_sleep()) {
    const std::uint64_t now = time_driver::now_ns();
    timeout = std::chrono::nanoseconds(*next > now ? *next - now : 0);
  }
  io_.wait(timeout);
  timers_.process();
}

void driver::poll_ready() noexcept {
  io_.wait(std::chrono::nanoseconds::zero());
  timers_.process();
}

}  // namespace weft::detail

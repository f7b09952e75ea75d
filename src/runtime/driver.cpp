// SPDX-License-Identifier: MIT
#include "runtime/driver.hpp"

#include "util/cpu_relax.hpp"

#include <chrono>

namespace weft::detail {

driver::driver() : timers_([this] { io_.unpark(); }) {}

namespace {
// A halted vCPU takes ~20-30 µs to wake (limits.md §1, §5), so a sleep that
// ends exactly at the deadline fires the timer that much late. The driver
// wakes this much early instead and spins the rest of the way.
constexpr std::uint64_t early_wake_ns = 25'000;
}  // namespace

void driver::park() noexcept {
  std::optional<std::chrono::nanoseconds> timeout;
  const std::optional<std::uint64_t> next = timers_.begin_sleep();
  if (next) {
    const std::uint64_t now = time_driver::now_ns();
    const std::uint64_t wake_at = *next > early_wake_ns ? *next - early_wake_ns : 0;
    timeout = std::chrono::nanoseconds(wake_at > now ? wake_at - now : 0);
  }
  const bool woken = io_.wait(timeout);
  // Timed out: the deadline is at most early_wake_ns away (an earlier timer
  // armed meanwhile would have unparked us). With an event, tasks are waiting:
  // do not spin.
  if (next && !woken) {
    while (time_driver::now_ns() < *next) cpu_relax();
  }
  timers_.process();
}

void driver::poll_ready() noexcept {
  io_.wait(std::chrono::nanoseconds::zero());
  timers_.process();
}

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#include "runtime/driver.hpp"

#include "util/cpu_relax.hpp"

#include <algorithm>
#include <chrono>

namespace weft::detail {

driver::driver() : timers_([this] { io_.unpark(); }) {}

namespace {
// A halted vCPU takes ~20 µs to wake at the median and several times that in
// the tail (limits.md §1, §5), so a sleep that ends exactly at the deadline
// fires the timer that much late. The driver wakes early instead and spins
// the rest of the way. How early adapts to how late its own wake-ups have
// been: it jumps up to the latest oversleep seen (plus a margin) and decays
// slowly, between these bounds — the upper one caps the spinning per timer.
constexpr std::uint64_t min_early_wake_ns = 10'000;
constexpr std::uint64_t max_early_wake_ns = 120'000;
constexpr std::uint64_t early_wake_margin_ns = 5'000;
}  // namespace

void driver::park() noexcept {
  std::optional<std::chrono::nanoseconds> timeout;
  const std::optional<std::uint64_t> next = timers_.begin_sleep();
  std::uint64_t wake_at = 0;
  if (next) {
    const std::uint64_t now = time_driver::now_ns();
    wake_at = *next > early_wake_ns_ ? *next - early_wake_ns_ : 0;
    timeout = std::chrono::nanoseconds(wake_at > now ? wake_at - now : 0);
  }
  const bool woken = io_.wait(timeout);
  // Timed out: the deadline is at most early_wake_ns_ away, or past (an
  // earlier timer armed meanwhile would have unparked us). With an event,
  // tasks are waiting: do not spin.
  if (next && !woken) {
    const std::uint64_t now = time_driver::now_ns();
    if (now > wake_at && *timeout > std::chrono::nanoseconds::zero()) learn_oversleep(now - wake_at);
    while (time_driver::now_ns() < *next) cpu_relax();
  }
  timers_.process();
}

void driver::learn_oversleep(std::uint64_t oversleep_ns) noexcept {
  const std::uint64_t target = std::clamp(oversleep_ns + early_wake_margin_ns, min_early_wake_ns, max_early_wake_ns);
  if (target > early_wake_ns_) early_wake_ns_ = target;                    // jump up at once
  else early_wake_ns_ -= (early_wake_ns_ - target) / 64;                   // come down slowly
}

void driver::poll_ready() noexcept {
  io_.wait(std::chrono::nanoseconds::zero());
  timers_.process();
}

}  // namespace weft::detail

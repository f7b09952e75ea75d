// SPDX-License-Identifier: MIT
#include "util/spin_pause.hpp"

#include "util/cpu_load.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>

#include <sched.h>

namespace weft::detail {

namespace {

// steady_clock ns; relaxed throughout: hints, nothing is published through
// them, and two spinners pausing at once both store a plausible pause.
std::atomic<std::int64_t> paused_until{0};
std::atomic<std::int64_t> pause_length{0};
// The share of long yields, in 1/1024ths, averaged over about the last 32
// yields of any spinner: another program's busy loops make ~45% of them
// long, a load generator's threads (wrk) ~7%.
constexpr std::int32_t share_one = 1024;
constexpr std::int32_t share_window = 32;
std::atomic<std::int32_t> long_share{0};

template <class D>
constexpr std::int64_t ns(D d) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

std::int64_t now_ns() noexcept { return ns(std::chrono::steady_clock::now().time_since_epoch()); }

}  // namespace

bool spin_pause::may_spin() noexcept { return now_ns() >= paused_until.load(std::memory_order_relaxed); }

bool spin_pause::yield() noexcept {
  const std::int64_t before = now_ns();
  sched_yield();
  const std::int64_t after = now_ns();
  const bool long_yield = after - before >= ns(taken_after);
  const std::int32_t share = long_share.load(std::memory_order_relaxed);
  const std::int32_t new_share = share + ((long_yield ? share_one : 0) - share) / share_window;
  long_share.store(new_share, std::memory_order_relaxed);
  if (!long_yield || new_share * 100 < long_yields_percent_to_pause * share_one || !every_cpu_taken()) return true;
  const std::int64_t until = paused_until.load(std::memory_order_relaxed);
  const std::int64_t last = pause_length.load(std::memory_order_relaxed);
  std::int64_t next = ns(min_pause);
  if (before < until) next = std::max(last, next);   // a spin under way as the pause began: the same slice
  else if (before < until + last) next = std::min(last * 2, ns(max_pause));   // taken again right after it
  pause_length.store(next, std::memory_order_relaxed);
  paused_until.store(after + next, std::memory_order_relaxed);
  return false;
}

}  // namespace weft::detail

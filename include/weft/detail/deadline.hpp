// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Deadlines that saturate: `now + d` for any duration, `nanoseconds::max()`
/// included, without signed overflow. Every deadline weft computes from a
/// user's duration (timeout, sleep, interval, shutdown_timeout,
/// thread_keep_alive) goes through here. Internal; not API.

#include <chrono>

namespace weft::detail {

using steady_time = std::chrono::steady_clock::time_point;

/// `from + d`, clamped to steady_clock's range: a duration too long to
/// represent means "never" (time_point::max()), not a date in the past.
constexpr steady_time saturating_add(steady_time from, std::chrono::nanoseconds d) noexcept {
  using rep = steady_time::duration::rep;
  const auto step = std::chrono::duration_cast<steady_time::duration>(d).count();
  rep sum = 0;
  if (__builtin_add_overflow(from.time_since_epoch().count(), step, &sum))
    return step > 0 ? steady_time::max() : steady_time::min();
  return steady_time(steady_time::duration(sum));
}

/// The deadline `d` from now; see saturating_add.
inline steady_time deadline_after(std::chrono::nanoseconds d) noexcept {
  return saturating_add(std::chrono::steady_clock::now(), d);
}

}  // namespace weft::detail

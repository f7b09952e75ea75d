// SPDX-License-Identifier: MIT
#pragma once
// CLOCK_MONOTONIC_COARSE: a few nanoseconds to read (no TSC read, the
// kernel's last tick), a resolution of one tick (1-4 ms). For times that
// only a dump shows, where steady_clock's ~20 ns would be paid on a path
// that does not otherwise need the time.
#include <cstdint>
#include <ctime>

namespace weft::detail {

inline std::int64_t coarse_now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace weft::detail

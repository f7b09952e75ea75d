// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Diagnostics (DESIGN §6): the types of weft's stall and long-blocking
/// reports, its latency histograms, task dumps and Prometheus text.
///
/// (Issue 11 fills this header in; `duration_histogram` is here first because
/// the pools of §8 report it too.)

#include <array>
#include <bit>
#include <chrono>
#include <cstdint>

namespace weft {

/// A log-scale histogram of durations: bucket 0 counts [0, 2) ns, bucket
/// i >= 1 counts [2^i, 2^(i+1)) ns.
///
/// Thread safety: a plain value (a snapshot); not for concurrent writers.
struct duration_histogram {
  std::array<std::uint64_t, 64> buckets{};
  std::uint64_t count = 0;
  std::chrono::nanoseconds sum{}, max{};

  /// The bucket that holds `d` (negative durations count as 0).
  static constexpr std::size_t bucket_of(std::chrono::nanoseconds d) noexcept {
    const auto ns = d.count() <= 0 ? std::uint64_t{0} : static_cast<std::uint64_t>(d.count());
    return ns < 2 ? 0 : static_cast<std::size_t>(std::bit_width(ns) - 1);
  }

  /// Adds one sample.
  constexpr void record(std::chrono::nanoseconds d) noexcept {
    ++buckets[bucket_of(d)];
    ++count;
    sum += d;
    if (d > max) max = d;
  }

  /// The upper bound of the bucket holding the `q`-quantile sample (q in
  /// [0, 1], clamped), capped at `max`; 0 if empty.
  constexpr std::chrono::nanoseconds percentile(double q) const noexcept {
    if (count == 0) return std::chrono::nanoseconds{0};
    q = q < 0 ? 0 : (q > 1 ? 1 : q);
    // The 1-based rank of the sample wanted: ceil(q * count), at least 1.
    const double exact = q * static_cast<double>(count);
    auto rank = static_cast<std::uint64_t>(exact);
    if (static_cast<double>(rank) < exact) ++rank;
    if (rank == 0) rank = 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      seen += buckets[i];
      if (seen >= rank) {
        // The bucket's (exclusive) upper bound, 2^(i+1) ns.
        const std::int64_t upper = i >= 62 ? INT64_MAX : std::int64_t{2} << i;
        return std::chrono::nanoseconds{upper} < max ? std::chrono::nanoseconds{upper} : max;
      }
    }
    return max;
  }
};

}  // namespace weft

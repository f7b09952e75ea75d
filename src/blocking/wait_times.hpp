// SPDX-License-Identifier: MIT
#pragma once
// When the queued jobs of the blocking pool began to wait, kept beside the
// queue because blocking_job (include/weft/detail/blocking_job.hpp) has room
// for the queue links only.
//
// A FIFO of buckets parallel to the queue: each says how many consecutive jobs
// were queued starting from what time. The time a bucket gives for a position
// is never later than the true enqueue time of the job at that position, so
// waits are over-estimated by at most one granule, never under-estimated: the
// supervisor may start a thread up to a granule early, never late.
// - Taking the head (pop_oldest) removes one job from the front bucket: exact.
// - Removing a job from the middle (try_cancel) removes one from the back
//   bucket (pop_newest): each later position then belongs to a younger job
//   than before, whose true time is later still.
// - With every slot used, the two oldest buckets merge and keep the older time.
// Not thread-safe: guarded by the pool's mutex_, like the queue.

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>

namespace weft::detail {

class wait_times {
public:
  using clock = std::chrono::steady_clock;

  explicit wait_times(clock::duration granule) noexcept : granule_(granule) {}

  void push(clock::time_point now) noexcept {
    if (size_ > 0) {
      bucket& last = at(size_ - 1);
      if (now - last.since < granule_) {
        ++last.count;
        return;
      }
    }
    if (size_ == capacity) {
      // Both are older than any other: merging cannot make a wait look shorter.
      at(1).since = at(0).since;
      at(1).count += at(0).count;
      first_ = (first_ + 1) % capacity;
      --size_;
    }
    at(size_++) = bucket{now, 1};
  }

  void pop_oldest() noexcept {
    if (--at(0).count == 0) {
      first_ = (first_ + 1) % capacity;
      --size_;
    }
  }

  void pop_newest() noexcept {
    if (--at(size_ - 1).count == 0) --size_;
  }

  void clear() noexcept { first_ = size_ = 0; }

  /// When the job at `position` (0 = the head) began to wait, at the latest;
  /// nullopt if fewer jobs wait. O(position).
  std::optional<clock::time_point> since(std::size_t position) const noexcept {
    for (std::size_t i = 0; i < size_; ++i) {
      const bucket& b = buckets_[(first_ + i) % capacity];
      if (position < b.count) return b.since;
      position -= b.count;
    }
    return std::nullopt;
  }

private:
  struct bucket {
    clock::time_point since;
    std::size_t count;
  };
  static constexpr std::size_t capacity = 64;

  bucket& at(std::size_t i) noexcept { return buckets_[(first_ + i) % capacity]; }

  std::array<bucket, capacity> buckets_{};
  std::size_t first_ = 0;
  std::size_t size_ = 0;
  const clock::duration granule_;
};

}  // namespace weft::detail

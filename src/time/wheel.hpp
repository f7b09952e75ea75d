// SPDX-License-Identifier: MIT
#pragma once

// A hierarchical timing wheel with nanosecond resolution.
//
// The wheel has a resolution of one nanosecond. Deadlines are never rounded: an
// entry fires in the first poll() whose `now` is at or past its deadline, and
// next_expiration() names that deadline itself, so the driver can sleep until it
// and not past it (limits.md §5: the OS floor is ~30 µs p50, 70-100 µs p99; a
// 1 ms grain as in Tokio would add up to a whole millisecond on top).
// * Level 0: 64 x 1 ns slots.
// * Level 1: 64 x 64 ns slots.
// * Level 2: 64 x ~4.1 µs slots.
// * Level 3: 64 x ~262 µs slots.
// * Level 4: 64 x ~16.8 ms slots.
// * Level 5: 64 x ~1.07 s slots.
// * Level k: 64 x 64^k ns slots, up to
// * Level 10: 16 x 2^60 ns (~36.6 years) slots: the top 4 bits of a u64.
// Eleven levels cover every u64 deadline, so there is no overflow list: a deadline
// 500 years away is just an entry in level 10.
//
// Why 1 ns and not a 1 µs tick: with a coarser tick, a poll in the middle of a tick
// must scan that tick's slot for the entries already due, and the wheel could not
// promise exact firing order. The price is ~1.7 more levels than a 1 µs tick: a 1 s
// timer starts at level 4 and moves down 4 times before it fires instead of 3, and
// each move is O(1).
//
// ALGORITHM (as Tokio's wheel, time/wheel/mod.rs):
// - elapsed_ is the `now` of the last poll. An entry with deadline d > elapsed_ sits
//   at the level of the highest 6-bit group in which d and elapsed_ differ, in the
//   slot given by d's bits of that group.
// - Invariant: every occupied slot starts after elapsed_, and every slot of level
//   k-1 starts before every occupied slot of level k. So the earliest slot is the
//   lowest set bit of the lowest non-empty level: O(levels) to find, no scan.
// - poll(now) takes that slot while it starts at or before `now`, sets elapsed_ to
//   its start, and re-places its entries relative to the new elapsed_: each lands at
//   a lower level, or expires if its deadline is the slot's start. A level 0 slot
//   spans 1 ns, so every entry in it expires. Entries therefore expire in deadline
//   order; equal deadlines come out in no particular order.
// - A deadline <= elapsed_ at insert goes to due_, which the next poll expires first.
//
// COMPLEXITY: insert, remove O(1); next_expiration O(levels); poll O(levels) per slot
// it visits, and each entry is visited at most once per level, so O(levels) per
// entry over its life. Memory: ~17 KB per wheel plus the entries, whatever their count.
// The cost lands on the poll that reaches a slot: a crowded high-level slot is
// re-placed in one go. Measured at -O2 with 10^6 timers spread over 10 s: the poll
// work an entry waits for is 0.5 µs at p99, but the worst poll (a level 5 slot of
// ~100k entries, one cache miss each) takes ~18 ms. Tokio's wheel does the same.
//
// THREAD SAFETY:
// - Single-threaded: the time driver guards every call with its mutex.
// - poll() only unlinks expired entries into the caller's list, so the driver can
//   drop the mutex before calling fire() on them (timer_entry.hpp says how a
//   canceller must then treat an entry that is no longer pending).

#include "time/level.hpp"
#include "time/timer_entry.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace weft::detail {

class timer_wheel {
public:
  static constexpr unsigned num_levels = 11;

  /// An empty wheel whose clock reads `now_ns`.
  explicit timer_wheel(std::uint64_t now_ns) noexcept : elapsed_(now_ns) {}
  timer_wheel(const timer_wheel&) = delete;
  timer_wheel& operator=(const timer_wheel&) = delete;
  ~timer_wheel() = default;

  /// Arms `e` for `deadline_ns`, or re-arms it if already pending here.
  ///
  /// A deadline at or before the wheel's clock expires at the next poll(). The new
  /// deadline may be earlier than next_expiration() was: the driver must then cut
  /// its sleep short.
  /// Preconditions: `e` is not pending in another wheel, nor in an expired list
  /// whose entries have not been fired yet.
  void insert(timer_entry& e, std::uint64_t deadline_ns) noexcept;

  /// Disarms `e` in O(1); no-op if it is not pending.
  void remove(timer_entry& e) noexcept;

  /// Moves every entry with deadline <= `now_ns` to the back of `expired`, in
  /// deadline order, and advances the wheel's clock to `now_ns` (never backwards).
  /// Returns how many entries it moved. They are no longer pending.
  ///
  /// Entries whose deadline had already passed when they were inserted come first,
  /// in insertion order: they are all late, and sorting them would cost O(log n).
  ///
  /// poll(UINT64_MAX, list) empties the wheel, in order: the shutdown path.
  std::size_t poll(std::uint64_t now_ns, timer_list& expired) noexcept;

  /// The earliest time at which poll() could expire something, or nullopt if empty.
  ///
  /// Never later than the earliest deadline, and equal to it unless entries were
  /// removed from its slot (then possibly as early as the slot's start, once: the poll
  /// there re-places the slot and the bound is exact again). A value at or before the
  /// clock means "poll now".
  [[nodiscard]] std::optional<std::uint64_t> next_expiration() const noexcept;

  /// The number of pending entries.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /// The wheel's clock: the latest `now` it was constructed or polled with.
  [[nodiscard]] std::uint64_t elapsed() const noexcept { return elapsed_; }

private:
  static constexpr std::uint64_t no_deadline = ~std::uint64_t{0};

  // Links `e` by its deadline relative to elapsed_; the caller counts it in size_.
  void place(timer_entry& e) noexcept;
  // Marks `e` no longer pending and appends it to `expired`.
  static void expire(timer_entry& e, timer_list& expired, std::size_t& count) noexcept;
  // Unlinks every entry of the earliest slot, if it starts at or before `now_ns`.
  [[nodiscard]] bool expire_next_slot(std::uint64_t now_ns, timer_list& expired, std::size_t& count) noexcept;
  [[nodiscard]] int lowest_occupied_level() const noexcept;
  [[nodiscard]] std::uint64_t slot_start(unsigned level, unsigned slot) const noexcept;

  std::uint64_t elapsed_;
  std::size_t size_ = 0;
  // Entries inserted with a deadline <= elapsed_, and a lower bound on their deadlines.
  timer_list due_;
  std::uint64_t due_min_ = no_deadline;
  std::array<wheel_level, num_levels> levels_{};
};

}  // namespace weft::detail

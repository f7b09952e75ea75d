// SPDX-License-Identifier: MIT
#pragma once

// One level of the timer wheel: 64 slots and a bitmap of the occupied ones.
//
// The level knows nothing of time: timer_wheel decides which slot an entry goes
// to and when a slot is due. The level keeps, per slot, a lower bound on the
// deadlines in it, so that next_expiration() can name the earliest deadline
// instead of the slot's start (up to 64^level ns earlier), which would wake the
// driver early once per level on the way down. The bound is lowered on insert
// and left alone on erase: a stale bound only makes the driver wake early, once,
// and is reset when the slot empties.

#include "time/timer_entry.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <limits>

namespace weft::detail {

class wheel_level {
public:
  static constexpr unsigned slot_bits = 6;
  static constexpr unsigned num_slots = 1U << slot_bits;

  wheel_level() noexcept { min_deadline_.fill(no_deadline); }

  [[nodiscard]] bool is_empty() const noexcept { return occupied_ == 0; }

  /// The lowest occupied slot. Precondition: !is_empty().
  [[nodiscard]] unsigned first_occupied() const noexcept { return static_cast<unsigned>(std::countr_zero(occupied_)); }

  /// A lower bound on the deadlines in `slot`; exact unless entries were erased.
  [[nodiscard]] std::uint64_t min_deadline(unsigned slot) const noexcept { return min_deadline_[slot]; }

  void push(timer_entry& e, unsigned slot) noexcept {
    slots_[slot].push_back(e);
    occupied_ |= std::uint64_t{1} << slot;
    if (e.deadline_ < min_deadline_[slot]) {
      min_deadline_[slot] = e.deadline_;
    }
  }

  void erase(timer_entry& e, unsigned slot) noexcept {
    slots_[slot].erase(e);
    if (slots_[slot].empty()) {
      mark_empty(slot);
    }
  }

  /// Unlinks the whole slot and returns its entries, in insertion order.
  [[nodiscard]] timer_list take(unsigned slot) noexcept {
    timer_list entries(std::move(slots_[slot]));
    mark_empty(slot);
    return entries;
  }

private:
  static constexpr std::uint64_t no_deadline = std::numeric_limits<std::uint64_t>::max();

  void mark_empty(unsigned slot) noexcept {
    occupied_ &= ~(std::uint64_t{1} << slot);
    min_deadline_[slot] = no_deadline;
  }

  // Bit i set <=> slots_[i] is non-empty; lets the wheel find the next slot in O(1).
  std::uint64_t occupied_ = 0;
  std::array<timer_list, num_slots> slots_{};
  std::array<std::uint64_t, num_slots> min_deadline_{};
};

}  // namespace weft::detail

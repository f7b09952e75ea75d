// SPDX-License-Identifier: MIT
// timer_wheel: placement, removal and the expiry loop. The shape, the algorithm and
// its invariants are described at the top of wheel.hpp.

#include "time/wheel.hpp"

#include <algorithm>
#include <bit>

namespace weft::detail {
namespace {

constexpr unsigned slot_bits = wheel_level::slot_bits;
constexpr std::uint64_t slot_mask = wheel_level::num_slots - 1;

// The level of the highest 6-bit group in which `deadline` and `elapsed` differ.
// ORing in slot_mask sends a difference confined to the lowest group to level 0.
unsigned level_for(std::uint64_t elapsed, std::uint64_t deadline) noexcept {
  const std::uint64_t masked = (elapsed ^ deadline) | slot_mask;
  const auto significant = static_cast<unsigned>(63 - std::countl_zero(masked));
  return significant / slot_bits;
}

unsigned slot_for(std::uint64_t deadline, unsigned level) noexcept {
  return static_cast<unsigned>((deadline >> (level * slot_bits)) & slot_mask);
}

}  // namespace

void timer_wheel::expire(timer_entry& e, timer_list& expired, std::size_t& count) noexcept {
  e.level_ = timer_entry::not_pending;
  expired.push_back(e);
  ++count;
}

void timer_wheel::insert(timer_entry& e, std::uint64_t deadline_ns) noexcept {
  // Re-arming unlinks first: the old deadline decides which slot holds the entry.
  remove(e);
  e.deadline_ = deadline_ns;
  place(e);
  ++size_;
}

void timer_wheel::remove(timer_entry& e) noexcept {
  if (!e.is_pending()) {
    return;
  }
  if (e.level_ == timer_entry::in_due_list) {
    due_.erase(e);
    if (due_.empty()) {
      due_min_ = no_deadline;
    }
  } else {
    // level_ and deadline_ still name the slot: cascading re-places an entry
    // and updates level_, and the deadline only changes through insert().
    levels_[e.level_].erase(e, slot_for(e.deadline_, e.level_));
  }
  e.level_ = timer_entry::not_pending;
  --size_;
}

std::size_t timer_wheel::poll(std::uint64_t now_ns, timer_list& expired) noexcept {
  std::size_t count = 0;
  // Due entries have deadlines <= elapsed_, earlier than anything in the levels.
  while (timer_entry* e = due_.pop_front()) {
    expire(*e, expired, count);
  }
  due_min_ = no_deadline;
  while (expire_next_slot(now_ns, expired, count)) {}
  // Every occupied slot now starts after now_ns, so jumping the clock there keeps
  // each entry's high bits equal to the clock's: no slot is skipped.
  elapsed_ = std::max(elapsed_, now_ns);
  size_ -= count;
  return count;
}

bool timer_wheel::expire_next_slot(std::uint64_t now_ns, timer_list& expired, std::size_t& count) noexcept {
  const int found = lowest_occupied_level();
  if (found < 0) {
    return false;
  }
  const auto level = static_cast<unsigned>(found);
  const unsigned slot = levels_[level].first_occupied();
  const std::uint64_t start = slot_start(level, slot);
  if (start > now_ns) {
    return false;
  }
  // Nothing earlier than this slot is left, so the clock may move to its start;
  // re-placing relative to it sends every later entry to a lower level.
  elapsed_ = start;
  timer_list entries = levels_[level].take(slot);
  while (timer_entry* e = entries.pop_front()) {
    if (e->deadline_ == start) {
      expire(*e, expired, count);
    } else {
      place(*e);
    }
  }
  return true;
}

std::optional<std::uint64_t> timer_wheel::next_expiration() const noexcept {
  if (!due_.empty()) {
    return due_min_;
  }
  const int found = lowest_occupied_level();
  if (found < 0) {
    return std::nullopt;
  }
  const auto level = static_cast<unsigned>(found);
  const unsigned slot = levels_[level].first_occupied();
  // The bound may be stale (lower than any deadline left), never below the start.
  return std::max(slot_start(level, slot), levels_[level].min_deadline(slot));
}

void timer_wheel::place(timer_entry& e) noexcept {
  if (e.deadline_ <= elapsed_) {
    e.level_ = timer_entry::in_due_list;
    due_.push_back(e);
    due_min_ = std::min(due_min_, e.deadline_);
    return;
  }
  const unsigned level = level_for(elapsed_, e.deadline_);
  e.level_ = static_cast<std::uint8_t>(level);
  levels_[level].push(e, slot_for(e.deadline_, level));
}

int timer_wheel::lowest_occupied_level() const noexcept {
  for (unsigned level = 0; level < num_levels; ++level) {
    if (!levels_[level].is_empty()) {
      return static_cast<int>(level);
    }
  }
  return -1;
}

std::uint64_t timer_wheel::slot_start(unsigned level, unsigned slot) const noexcept {
  const unsigned slot_shift = level * slot_bits;
  // Bits above the level's group come from the clock; the top level has none.
  const unsigned level_shift = slot_shift + slot_bits;
  const std::uint64_t prefix = level_shift >= 64 ? 0 : elapsed_ & ~((std::uint64_t{1} << level_shift) - 1);
  return prefix | (std::uint64_t{slot} << slot_shift);
}

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once

// An intrusive timer entry, and the intrusive list that holds entries.
//
// The entry lives inside its owner (a sleep or timeout awaiter), so arming a timer
// allocates nothing: the wheel only links and unlinks it. The same list type serves
// as a wheel slot, as the wheel's list of already-due entries, and as the list into
// which timer_wheel::poll() moves expired entries for the driver to fire.
//
// THREAD SAFETY:
// - An entry's links and pending flag are written only by the wheel, which the time
//   driver guards with its mutex; is_pending() is meaningful only under that mutex.
// - fire() runs outside the mutex (the driver drains its expired list after
//   unlocking). Nothing in fire() touches the links or the pending flag, so a
//   canceller that calls remove() under the mutex never races with it; it only
//   learns from is_pending() == false that the entry is already being fired and
//   must keep the owner alive until fire() has returned (the awaiter's handshake).

#include <cassert>
#include <cstdint>
#include <utility>

namespace weft::detail {

class timer_list;
class timer_wheel;
class wheel_level;

/// One timer: a deadline and what to do when it passes.
///
/// Never allocated or freed by the wheel. The owner usually derives from
/// timer_entry and casts back in its fire function.
///
/// Preconditions: not pending when destroyed; not moved or copied while linked.
class timer_entry {
public:
  /// Called by fire(); receives the entry so a derived owner can static_cast to itself.
  using fire_fn = void (*)(timer_entry&) noexcept;

  explicit timer_entry(fire_fn on_fire = nullptr) noexcept : on_fire_(on_fire) {}
  timer_entry(const timer_entry&) = delete;
  timer_entry& operator=(const timer_entry&) = delete;
  // A pending entry destroyed would leave a dangling node in a wheel slot.
  ~timer_entry() { assert(!is_pending()); }

  /// Absolute deadline in nanoseconds of steady_clock since its epoch, as last inserted.
  [[nodiscard]] std::uint64_t deadline() const noexcept { return deadline_; }

  /// True while the entry is in a wheel (including its already-due list).
  [[nodiscard]] bool is_pending() const noexcept { return level_ != not_pending; }

  /// Runs the fire function. The driver calls this after poll() has handed it the entry.
  void fire() noexcept {
    assert(on_fire_ != nullptr);
    on_fire_(*this);
  }

private:
  friend class timer_list;
  friend class timer_wheel;
  friend class wheel_level;

  // level_ is the wheel level of the slot holding the entry, or one of these.
  static constexpr std::uint8_t not_pending = 0xff;
  static constexpr std::uint8_t in_due_list = 0xfe;

  timer_entry* prev_ = nullptr;
  timer_entry* next_ = nullptr;
  std::uint64_t deadline_ = 0;
  fire_fn on_fire_;
  std::uint8_t level_ = not_pending;
};

/// A doubly linked FIFO of timer entries that owns none of them.
///
/// An entry is in at most one list at a time. Dropping a non-empty list does not
/// unlink its entries; whoever drops it must already own them by other means.
class timer_list {
public:
  timer_list() noexcept = default;
  timer_list(timer_list&& other) noexcept
      : head_(std::exchange(other.head_, nullptr)), tail_(std::exchange(other.tail_, nullptr)) {}
  timer_list(const timer_list&) = delete;
  timer_list& operator=(const timer_list&) = delete;
  timer_list& operator=(timer_list&&) = delete;
  ~timer_list() = default;

  [[nodiscard]] bool empty() const noexcept { return head_ == nullptr; }
  [[nodiscard]] timer_entry* front() const noexcept { return head_; }

  void push_back(timer_entry& e) noexcept {
    e.prev_ = tail_;
    e.next_ = nullptr;
    if (tail_ != nullptr) {
      tail_->next_ = &e;
    } else {
      head_ = &e;
    }
    tail_ = &e;
  }

  /// Unlinks and returns the first entry, or nullptr when empty.
  timer_entry* pop_front() noexcept {
    timer_entry* e = head_;
    if (e != nullptr) {
      erase(*e);
    }
    return e;
  }

  /// Unlinks `e`. Precondition: `e` is in this list.
  void erase(timer_entry& e) noexcept {
    (e.prev_ != nullptr ? e.prev_->next_ : head_) = e.next_;
    (e.next_ != nullptr ? e.next_->prev_ : tail_) = e.prev_;
    e.prev_ = nullptr;
    e.next_ = nullptr;
  }

private:
  timer_entry* head_ = nullptr;
  timer_entry* tail_ = nullptr;
};

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The shared state of a broadcast channel. Internal; not API — see
/// weft/sync/broadcast.hpp.
///
/// A ring of `capacity` slots; value number `seq` lives in slot seq % capacity
/// while tail_ - capacity <= seq < tail_. Each receiver keeps the number of
/// the next value it wants; one that has fallen behind the oldest value still
/// held is told how many it missed and moved up to the oldest.
///
/// Receivers with nothing to read wait in waiters_; a send (or the last
/// sender's departure) wakes them all. They are not handed a message — the
/// value stays in the ring, where a late receiver finds it or learns it
/// lagged — so a cancelled recv consumes nothing and passes nothing on.

#include <weft/detail/waiter_list.hpp>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace weft::detail {

/// What take() found for a receiver.
enum class broadcast_take { value, lagged, empty, closed };

template <class T>
class broadcast_state {
public:
  explicit broadcast_state(std::size_t capacity) : ring_(capacity) {}

  /// Stores `value` and wakes every waiting receiver; gives how many
  /// receivers exist. With none, the value is dropped and not stored.
  std::size_t send(T& value) {
    // Moved in before locking (if it throws, nothing changed); after the
    // swap it holds the overwritten value, destroyed once the mutex is free.
    std::optional<T> slot_value(std::move(value));
    std::unique_lock lock(mutex_);
    if (num_receivers_ == 0) return 0;
    ring_[tail_ % ring_.size()].swap(slot_value);
    ++tail_;
    const std::size_t receivers = num_receivers_;
    wake_all(waiters_, waiter_status::notified, lock);
    return receivers;
  }

  /// Reads the value numbered `next` for a receiver (copying it into `out`
  /// and advancing `next`), or says why not; on lagged, `missed` is set and
  /// `next` moves up to the oldest value held.
  broadcast_take take(std::uint64_t& next, std::optional<T>& out, std::uint64_t& missed) {
    std::lock_guard lock(mutex_);
    return take_locked(next, out, missed);
  }

  /// The receiver's half of recv: true if take() has something to say now,
  /// false if `node` now waits.
  bool is_ready_or_wait(std::uint64_t next, waiter_node& node, std::coroutine_handle<> resume_at) noexcept {
    std::lock_guard lock(mutex_);
    if (next != tail_ || num_senders_ == 0) return true;
    node.waker_ = suspend_current(resume_at);
    waiters_.push_back(node);
    return false;
  }

  void cancel(waiter_node& node) noexcept {
    std::lock_guard lock(mutex_);
    node.unlink();
  }

  void add_sender() noexcept {
    std::lock_guard lock(mutex_);
    ++num_senders_;
  }
  void drop_sender() noexcept {
    std::unique_lock lock(mutex_);
    if (--num_senders_ == 0) wake_all(waiters_, waiter_status::notified, lock);
  }

  /// A new receiver's starting point: only values sent from now on.
  std::uint64_t add_receiver() noexcept {
    std::lock_guard lock(mutex_);
    ++num_receivers_;
    return tail_;
  }
  void drop_receiver() noexcept {
    std::lock_guard lock(mutex_);
    --num_receivers_;
  }

  std::size_t num_receivers() const noexcept {
    std::lock_guard lock(mutex_);
    return num_receivers_;
  }
  /// Values a receiver at `next` has not read yet (at most the capacity).
  std::size_t num_unread(std::uint64_t next) const noexcept {
    std::lock_guard lock(mutex_);
    const std::uint64_t oldest = tail_ > ring_.size() ? tail_ - ring_.size() : 0;
    return static_cast<std::size_t>(tail_ - (next > oldest ? next : oldest));
  }

private:
  broadcast_take take_locked(std::uint64_t& next, std::optional<T>& out, std::uint64_t& missed) {
    const std::uint64_t oldest = tail_ > ring_.size() ? tail_ - ring_.size() : 0;
    if (next < oldest) {
      missed = oldest - next;
      next = oldest;
      return broadcast_take::lagged;
    }
    if (next == tail_) return num_senders_ == 0 ? broadcast_take::closed : broadcast_take::empty;
    out.emplace(*ring_[next % ring_.size()]);   // a copy: every receiver gets one
    ++next;
    return broadcast_take::value;
  }

  mutable std::mutex mutex_;   // guards every member below and every queued node
  std::vector<std::optional<T>> ring_;
  std::uint64_t tail_ = 0;   // number of the next value to be sent
  std::size_t num_senders_ = 1;
  std::size_t num_receivers_ = 1;
  waiter_list waiters_;
};

}  // namespace weft::detail

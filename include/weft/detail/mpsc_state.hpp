// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The shared state of an mpsc channel (bounded or unbounded). Internal; not
/// API — see weft/sync/mpsc.hpp.
///
/// The queue, the sender count, the closed flag and the receiver's waker are
/// guarded by mutex_. A bounded channel also has slots_, a fair semaphore of
/// free queue slots (Tokio's design): a sender takes a slot, then pushes; the
/// receiver gives the slot back when it pops. So senders waiting on a full
/// channel queue in FIFO order and resume owning their slot; a send
/// cancelled after its slot was granted passes the slot to the next sender.
///
/// The receiver waits on a single waker slot, not on a handed-over message:
/// there is only one receiver, so the message it was woken for stays at the
/// front of the queue until it takes it, and a cancelled recv consumes
/// nothing.

#include <weft/detail/semaphore_core.hpp>
#include <weft/detail/waiter_list.hpp>

#include <coroutine>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace weft::detail {

template <class T>
class mpsc_state {
public:
  /// capacity 0: unbounded (the caller has rejected 0 for a bounded channel).
  explicit mpsc_state(std::size_t capacity) : slots_(capacity), capacity_(capacity) {}

  bool is_bounded() const noexcept { return capacity_ != 0; }
  std::size_t capacity() const noexcept { return capacity_; }
  semaphore_core& slots() noexcept { return slots_; }

  /// Pushes `value` (moved from only on success) and wakes the receiver.
  /// A bounded sender must hold a slot; if the push fails the slot is given
  /// back. False if the receiver is gone or closed.
  bool push(T&& value) {
    waker w;
    {
      std::unique_lock lock(mutex_);
      if (is_closed_) {
        lock.unlock();
        release_slot();
        return false;
      }
      try {
        queue_.push_back(std::move(value));
      } catch (...) {
        lock.unlock();
        release_slot();
        throw;
      }
      w = std::move(rx_waker_);
    }
    w.wake();   // after unlocking: the receiver resumes on a worker
    return true;
  }

  /// The front message, or nullopt if none; `is_done` tells whether more can
  /// ever come. Frees the message's slot.
  std::optional<T> pop(bool& is_done) {
    std::optional<T> value;
    {
      std::lock_guard lock(mutex_);
      is_done = num_senders_ == 0 || is_closed_;
      if (queue_.empty()) return value;
      value.emplace(std::move(queue_.front()));
      queue_.pop_front();
    }
    release_slot();
    return value;
  }

  /// The receiver's half of recv: false if it must wait (waker stored).
  bool is_ready_or_wait(std::coroutine_handle<> resume_at) {
    std::lock_guard lock(mutex_);
    if (!queue_.empty() || num_senders_ == 0 || is_closed_) return true;
    rx_waker_ = suspend_current(resume_at);
    return false;
  }

  /// A pending recv was cancelled: withdraw its waker.
  void cancel_wait() noexcept {
    waker dropped;   // destroyed after the mutex is released
    std::lock_guard lock(mutex_);
    dropped = std::move(rx_waker_);
  }

  void add_sender() noexcept {
    std::lock_guard lock(mutex_);
    ++num_senders_;
  }

  /// The last sender gone: wake the receiver to see the end.
  void drop_sender() noexcept {
    waker w;
    {
      std::lock_guard lock(mutex_);
      if (--num_senders_ == 0) w = std::move(rx_waker_);
    }
    w.wake();
  }

  /// Receiver side: sends fail from now on; queued messages stay receivable.
  void close() noexcept {
    {
      std::lock_guard lock(mutex_);
      is_closed_ = true;
    }
    if (is_bounded()) slots_.close();   // senders waiting for a slot give up
  }

  /// The receiver is gone: close, and drop what nobody will receive.
  void close_and_drain() noexcept {
    close();
    std::deque<T> dropped;   // destroyed after the mutex is released
    std::lock_guard lock(mutex_);
    dropped.swap(queue_);
  }

  bool is_closed() const noexcept {
    std::lock_guard lock(mutex_);
    return is_closed_;
  }

  std::size_t size() const noexcept {
    std::lock_guard lock(mutex_);
    return queue_.size();
  }

private:
  void release_slot() noexcept {
    if (is_bounded()) slots_.release(1);
  }

  mutable std::mutex mutex_;   // guards queue_, num_senders_, is_closed_, rx_waker_
  std::deque<T> queue_;
  std::size_t num_senders_ = 1;
  bool is_closed_ = false;
  waker rx_waker_;
  semaphore_core slots_;
  const std::size_t capacity_;
};

}  // namespace weft::detail

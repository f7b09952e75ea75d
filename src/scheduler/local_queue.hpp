// SPDX-License-Identifier: MIT
#pragma once
// A worker's run queue: a bounded ring, single producer (the owning worker),
// many consumers (the owner and thieves), FIFO.
//
// THREAD SAFETY:
// - Owner thread: push() (the only writer of tail_ and of slots), and
//   take_half() when push() finds the queue full.
// - Any thread: pop() and steal_into() claim slots by advancing head_ with a
//   compare-exchange, so every task is taken exactly once.
// - Slots are atomics read before the claim: a reader that loses the race
//   discards what it read, and the owner never overwrites a slot that is not
//   yet claimed, because it only writes while tail - head < capacity.
// head_ and tail_ only grow (64-bit), so there is no ABA.
#include "scheduler/inject_queue.hpp"

#include <weft/detail/task_header.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace weft::detail {

class local_queue {
public:
  static constexpr std::size_t capacity = 256;

  /// Owner only. False if full (the caller moves work to the inject queue).
  bool push(task_header* task) noexcept {
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    // acquire: pairs with the claiming CAS in pop(), so the slot we reuse is free.
    if (tail - head_.load(std::memory_order_acquire) >= capacity) return false;
    slots_[tail % capacity].store(task, std::memory_order_relaxed);
    // release: publishes the slot to consumers' acquire load of tail_.
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  task_header* pop() noexcept {
    std::uint64_t head = head_.load(std::memory_order_acquire);
    for (;;) {
      if (head == tail_.load(std::memory_order_acquire)) return nullptr;
      task_header* task = slots_[head % capacity].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(head, head + 1, std::memory_order_acq_rel, std::memory_order_acquire))
        return task;
    }
  }

  /// Owner only, when push() failed: claims the older half of the queue
  /// and links it into `out` (for the inject queue). Empty if thieves took
  /// it all meanwhile.
  void take_half(task_batch& out) noexcept {
    std::uint64_t head = head_.load(std::memory_order_acquire);
    for (;;) {
      // relaxed: the owner reads its own writes of tail_.
      const std::uint64_t count = (tail_.load(std::memory_order_relaxed) - head) / 2;
      if (count == 0) return;
      // acq_rel: as in pop(); the claimed slots are ours, and only we (the
      // owner) ever write slots, so they can be read after the claim.
      if (head_.compare_exchange_weak(head, head + count, std::memory_order_acq_rel, std::memory_order_acquire)) {
        for (std::uint64_t i = 0; i < count; ++i)
          out.push_back(slots_[(head + i) % capacity].load(std::memory_order_relaxed));
        return;
      }
    }
  }

  /// Moves up to half of this queue into `into` (whose owner calls this) and
  /// returns one more task to run at once, or null if there was nothing.
  task_header* steal_into(local_queue& into) noexcept {
    std::uint64_t head = head_.load(std::memory_order_acquire);
    for (;;) {
      const std::uint64_t tail = tail_.load(std::memory_order_acquire);
      if (head >= tail) return nullptr;
      std::uint64_t count = (tail - head + 1) / 2;
      const std::uint64_t room =
          capacity - (into.tail_.load(std::memory_order_relaxed) - into.head_.load(std::memory_order_acquire));
      if (count > room + 1) count = room + 1;
      std::array<task_header*, capacity> taken;
      for (std::uint64_t i = 0; i < count; ++i)
        taken[i] = slots_[(head + i) % capacity].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(head, head + count, std::memory_order_acq_rel, std::memory_order_acquire)) {
        for (std::uint64_t i = 1; i < count; ++i) into.push(taken[i]);
        return taken[0];
      }
    }
  }

  std::size_t size() const noexcept {
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);
    const std::uint64_t head = head_.load(std::memory_order_acquire);
    return tail > head ? static_cast<std::size_t>(tail - head) : 0;
  }
  bool is_empty() const noexcept { return size() == 0; }

private:
  alignas(64) std::atomic<std::uint64_t> head_{0};
  alignas(64) std::atomic<std::uint64_t> tail_{0};
  std::array<std::atomic<task_header*>, capacity> slots_{};
};

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
// The global run queue: tasks woken or spawned from outside the workers, and
// the overflow of full local queues. A mutex-guarded intrusive FIFO (through
// task_header::queue_next_), so pushing never allocates.
#include <weft/detail/task_header.hpp>

#include <atomic>
#include <cstddef>
#include <mutex>

namespace weft::detail {

class inject_queue {
public:
  /// False once closed: the task is not queued (shutdown cancels it instead).
  bool push(task_header* task) noexcept {
    task->queue_next_ = nullptr;
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    if (tail_) tail_->queue_next_ = task;
    else head_ = task;
    tail_ = task;
    // release: pairs with the acquire in is_empty(), a hint checked without the lock.
    len_.store(len_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    return true;
  }

  task_header* pop() noexcept {
    if (is_empty()) return nullptr;
    std::lock_guard lock(mutex_);
    task_header* task = head_;
    if (!task) return nullptr;
    head_ = task->queue_next_;
    if (!head_) tail_ = nullptr;
    len_.store(len_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    return task;
  }

  bool is_empty() const noexcept { return len_.load(std::memory_order_acquire) == 0; }
  std::size_t size() const noexcept { return len_.load(std::memory_order_relaxed); }

  /// Refuses further pushes and forgets what is queued (shutdown cancels
  /// every live task through the owned list, not through the queues).
  void close() noexcept {
    std::lock_guard lock(mutex_);
    closed_ = true;
    head_ = tail_ = nullptr;
    len_.store(0, std::memory_order_relaxed);
  }

private:
  std::mutex mutex_;  // guards head_, tail_, closed_ and writes of len_
  task_header* head_ = nullptr;
  task_header* tail_ = nullptr;
  bool closed_ = false;
  std::atomic<std::size_t> len_{0};
};

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
// The global run queue: tasks woken or spawned from outside the workers, and
// the overflow of full local queues. A mutex-guarded intrusive FIFO (through
// task_header::queue_next_), so pushing never allocates. A full local queue
// moves half of itself here under one lock, so a flood of spawns costs one
// lock per batch, not one per task. Workers take tasks one at a time.
#include <weft/detail/task_header.hpp>

#include <atomic>
#include <cstddef>
#include <mutex>

namespace weft::detail {

/// A chain of tasks linked through queue_next_; the last one's is null.
struct task_batch {
  task_header* head = nullptr;
  task_header* tail = nullptr;
  std::size_t size = 0;

  void push_back(task_header* task) noexcept {
    task->queue_next_ = nullptr;
    (tail ? tail->queue_next_ : head) = task;
    tail = task;
    ++size;
  }
  /// Removes and returns the first task, or null.
  task_header* pop_front() noexcept {
    task_header* task = head;
    if (task) {
      head = task->queue_next_;
      if (!head) tail = nullptr;
      --size;
    }
    return task;
  }
};

class inject_queue {
public:
  /// False once closed: the task is not queued (shutdown cancels it instead).
  bool push(task_header* task) noexcept {
    task_batch one;
    one.push_back(task);
    return push(one);
  }

  /// Appends a whole batch under one lock. False once closed: nothing is queued.
  bool push(const task_batch& batch) noexcept {
    if (batch.size == 0) return true;
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    (tail_ ? tail_->queue_next_ : head_) = batch.head;
    tail_ = batch.tail;
    // release: pairs with the acquire in is_empty(), a hint checked without the lock.
    len_.store(len_.load(std::memory_order_relaxed) + batch.size, std::memory_order_release);
    return true;
  }

  task_header* pop() noexcept {
    if (is_empty()) return nullptr;
    std::lock_guard lock(mutex_);
    task_header* task = head_;
    if (!task) return nullptr;
    head_ = task->queue_next_;
    if (!head_) tail_ = nullptr;
    // relaxed: only a hint for is_empty(); the lock orders the list itself.
    len_.store(len_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    return task;
  }

  bool is_empty() const noexcept { return len_.load(std::memory_order_acquire) == 0; }
  // relaxed: a gauge; pairs with nothing.
  std::size_t size() const noexcept { return len_.load(std::memory_order_relaxed); }

  /// Calls fn(task) for every queued task, under the lock (fn must not push
  /// or pop). A queued task is alive: it completes only after it is popped.
  template <class Fn>
  void for_each(Fn fn) {
    std::lock_guard lock(mutex_);
    for (task_header* t = head_; t != nullptr; t = t->queue_next_) fn(*t);
  }

  /// Refuses further pushes and hands back what is queued, for shutdown to
  /// cancel.
  task_batch close() noexcept {
    std::lock_guard lock(mutex_);
    closed_ = true;
    task_batch out;
    out.head = head_;
    out.tail = tail_;
    out.size = len_.load(std::memory_order_relaxed);   // relaxed: under the lock that orders every write
    head_ = tail_ = nullptr;
    len_.store(0, std::memory_order_relaxed);
    return out;
  }

private:
  std::mutex mutex_;  // guards head_, tail_, closed_ and writes of len_
  task_header* head_ = nullptr;
  task_header* tail_ = nullptr;
  bool closed_ = false;
  std::atomic<std::size_t> len_{0};
};

}  // namespace weft::detail

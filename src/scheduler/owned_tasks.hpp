// SPDX-License-Identifier: MIT
#pragma once
// Every live async task of a scheduler, so that shutdown can cancel the ones
// that wait on something that will never come. Intrusive doubly linked lists
// (task_header::owned_prev_/owned_next_), sharded by task id so that workers
// spawning and completing at once rarely meet on a lock.
#include <weft/detail/task_header.hpp>

#include <array>
#include <mutex>

namespace weft::detail {

class owned_tasks {
public:
  void insert(task_header& task) noexcept {
    shard& s = shard_of(task);
    std::lock_guard lock(s.mutex);
    task.owned_prev_ = nullptr;
    task.owned_next_ = s.head;
    if (s.head) s.head->owned_prev_ = &task;
    s.head = &task;
  }

  void remove(task_header& task) noexcept {
    shard& s = shard_of(task);
    std::lock_guard lock(s.mutex);
    if (task.owned_prev_) task.owned_prev_->owned_next_ = task.owned_next_;
    else s.head = task.owned_next_;
    if (task.owned_next_) task.owned_next_->owned_prev_ = task.owned_prev_;
    task.owned_prev_ = task.owned_next_ = nullptr;
  }

  /// Any live task, or null when none is left (shutdown's sweep).
  task_header* any() noexcept {
    for (shard& s : shards_) {
      std::lock_guard lock(s.mutex);
      if (s.head) return s.head;
    }
    return nullptr;
  }

private:
  struct alignas(64) shard {
    std::mutex mutex;  // guards this shard's list
    task_header* head = nullptr;
  };
  shard& shard_of(const task_header& task) noexcept { return shards_[task.id() % shards_.size()]; }
  std::array<shard, 16> shards_;
};

}  // namespace weft::detail

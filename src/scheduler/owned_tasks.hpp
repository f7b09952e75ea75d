// SPDX-License-Identifier: MIT
#pragma once
// The async tasks of a scheduler that have been idle at least once, so that
// shutdown can cancel the ones that wait on something that will never come.
// A task enters the first time it goes idle (task_header::ensure_tracked)
// and leaves when it completes. Tasks that are never idle (spawned, polled
// to completion) never touch it: shutdown finds those in the run queues.
//
// Sharded by task id so that workers tracking and completing at once rarely
// meet on a lock. A shard is a vector of tasks, and each task knows its slot
// (task_header::owned_index_), so removal swaps the last task into the hole:
// that costs the header 4 bytes where list links would cost 16. The price is
// an amortized allocation when a shard grows; running out of memory there
// terminates, as any allocation failure on the scheduler's noexcept paths.
#include "util/coarse_clock.hpp"

#include <weft/detail/task_header.hpp>

#include <array>
#include <cstdint>
#include <mutex>
#include <vector>

namespace weft::detail {

class owned_tasks {
public:
  void insert(task_header& task) noexcept {
    shard& s = shard_of(task);
    std::lock_guard lock(s.mutex);
    task.owned_index_ = static_cast<std::uint32_t>(s.tasks.size());
    s.tasks.push_back(entry{&task, coarse_now_ns()});
  }

  void remove(task_header& task) noexcept {
    shard& s = shard_of(task);
    std::lock_guard lock(s.mutex);
    const entry last = s.tasks.back();
    s.tasks[task.owned_index_] = last;
    last.task->owned_index_ = task.owned_index_;
    s.tasks.pop_back();
  }

  /// Any task still in the list, or null when none is left (shutdown's sweep).
  task_header* any() noexcept {
    for (shard& s : shards_) {
      std::lock_guard lock(s.mutex);
      if (!s.tasks.empty()) return s.tasks.back().task;
    }
    return nullptr;
  }

  /// Calls fn(task, since) for every task, `since` being when it was first
  /// idle (coarse_now_ns). The task is alive during the call (a completing
  /// task leaves the list, under the same lock, before its scheduler drops
  /// its reference); fn must not call back into this list.
  template <class Fn>
  void for_each(Fn fn) {
    for (shard& s : shards_) {
      std::lock_guard lock(s.mutex);
      for (const entry& e : s.tasks) fn(*e.task, e.since);
    }
  }

private:
  struct entry {
    task_header* task;
    std::int64_t since;   // first idle (for dumps): coarse, as a task that waits pays it once
  };
  struct alignas(64) shard {
    std::mutex mutex;  // guards tasks and their owned_index_
    std::vector<entry> tasks;
  };
  shard& shard_of(const task_header& task) noexcept { return shards_[task.id() % shards_.size()]; }
  std::array<shard, 16> shards_;
};

}  // namespace weft::detail

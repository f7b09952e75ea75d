// SPDX-License-Identifier: MIT
#pragma once
// Giving task memory back (task_memory.cpp): what the scheduler and the
// runtime call so that a burst of tasks does not stay resident.

namespace weft::detail {

/// Returns to the OS what the calling thread's task-memory heap caches in
/// regions with no live block. Cheap when nothing was freed since the last
/// call; the scheduler calls it before a worker sleeps.
void trim_task_memory() noexcept;

/// As trim_task_memory, and the same for the heaps of threads that have
/// exited (their late frees): called when a runtime has shut down.
void release_task_memory() noexcept;

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
// How many threads want a CPU right now, which the blocking pool reads to
// tell "every CPU is taken" from "its threads are blocked" (blocking/pool.hpp,
// "Why a supervisor thread").
#include <cstddef>
#include <optional>

#include <sys/types.h>

namespace weft::detail {

/// Threads runnable at this instant, system-wide, the caller included: the
/// fourth field of /proc/loadavg ("1.0 0.5 0.2 3/250 1234" gives 3). Not per
/// cgroup. nullopt if the file cannot be read. Costs ~5 µs (open, read,
/// close: no descriptor is kept). Linux's pressure-stall totals would be the
/// finer signal, but /proc/pressure/cpu updates them only every 2 s.
std::optional<std::size_t> runnable_threads() noexcept;

/// Whether thread `tid` of this process is running or waiting for a CPU
/// (state R in /proc/self/task/<tid>/stat), as opposed to blocked in the
/// kernel. nullopt if the file cannot be read (the thread has exited).
/// Costs ~5 µs.
std::optional<bool> is_runnable(pid_t tid) noexcept;

/// The CPUs the calling thread may run on (its affinity: taskset, cpusets),
/// not all online ones; at least 1.
std::size_t usable_cpus() noexcept;

/// More threads runnable than the caller may use CPUs (its affinity), from a
/// runnable_threads() reading shared process-wide and refreshed at most once
/// a millisecond, so a hot path may ask. False if the file cannot be read.
bool cpus_oversubscribed() noexcept;

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
// How many threads want a CPU right now, which the blocking pool reads to
// tell "every CPU is taken" from "its threads are blocked" (blocking/pool.hpp,
// "Why a supervisor thread"), and the spinning threads read to tell whether
// another program holds every CPU (every_cpu_taken).
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

/// Threads that want a CPU for this process's runtimes' own sake: async
/// workers that are awake (polling tasks or searching) and blocking-pool
/// threads spinning for their next job. Each adds 1 as it starts and takes
/// it back as it stops. Not a pool thread running a closure: a CPU-bound
/// closure takes a CPU as another program would, and a blocked one none.
void count_own_runnable_threads(int delta) noexcept;

/// Threads other than those count_own_runnable_threads() counts (another
/// program's, this process's plain threads, CPU-bound closures) want at
/// least as many CPUs as the caller may use. A thread that spins for work
/// with a sched_yield between passes would then only hand them time slices,
/// and work handed to it meanwhile would wait as long: it should park
/// (bench/README, "Every CPU taken"). From the reading cpus_oversubscribed()
/// shares, so it may lag by a millisecond.
bool every_cpu_taken() noexcept;

}  // namespace weft::detail

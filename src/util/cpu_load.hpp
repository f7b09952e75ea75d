// SPDX-License-Identifier: MIT
#pragma once
// How many threads want a CPU right now, which the blocking pool reads to
// tell "every CPU is taken" from "its threads are blocked" (blocking/pool.hpp,
// "Why a supervisor thread"), and which CPUs never idle, which spinners read
// to tell whether another program holds every CPU (util/spin_pause.hpp).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include <sched.h>
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

/// Each CPU's idle time (idle + iowait, in USER_HZ ticks: 10 ms), by CPU
/// number modulo the size (CPUs beyond it share entries: a coarser hint).
using idle_ticks = std::array<std::uint64_t, 64>;

/// The per-CPU lines of /proc/stat's text ("cpu3 4705 356 584 3699 23 ...":
/// user nice system idle iowait ...); nullopt if one cannot be parsed.
std::optional<idle_ticks> parse_idle_ticks(std::string_view proc_stat) noexcept;

/// parse_idle_ticks of /proc/stat now (~10 µs); nullopt if it cannot be read.
/// Not reentrant: one static buffer (callers serialise, see idle_watch).
std::optional<idle_ticks> read_idle_ticks() noexcept;

/// Whether some CPUs ran something without pause between two looks, from
/// their idle ticks: each look compares with the one before. Looks closer
/// than min_gap say nothing (a tick is 10 ms) and looks further apart than
/// max_gap are stale; either way the look is the next one's baseline. Not
/// thread-safe.
class idle_watch {
public:
  static constexpr std::chrono::milliseconds min_gap{30};
  static constexpr std::chrono::seconds max_gap{1};

  /// Whether a look at `now` (steady_clock ns) could say anything: min_gap
  /// has passed since the last one. Cheap: ask it before reading the ticks.
  bool may_look(std::int64_t now) const noexcept;
  /// Whether every CPU in `cpus` had the same idle ticks at the last look,
  /// min_gap to max_gap before `now`, as in `ticks`; `ticks` becomes the
  /// baseline. False for a first look.
  bool never_idle_since_last_look(const idle_ticks& ticks, const cpu_set_t& cpus, std::int64_t now) noexcept;

private:
  idle_ticks last_{};
  std::int64_t last_at_ = std::numeric_limits<std::int64_t>::min() / 2;
};

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
// When the threads that spin for work (an idle async worker, a pool thread
// waiting for its next job) should not spin at all, process-wide.
//
// Such a thread spins ~50 µs before it parks, with a sched_yield between
// passes so that a thread of ours sharing its CPU can run: on a CPU that
// would otherwise idle, that saves the ~21 µs wake of a halted vCPU. When
// another program holds every CPU (a busy loop on each), each yield hands it
// a whole time slice (1.5-3 ms under EEVDF), and work handed to the spinner
// meanwhile waits as long: blocking_roundtrip took 2.6 ms at the median and
// timer_idle's ticks were 570 µs late (bench/README, "Every CPU taken"). A
// parked thread gets a CPU within the scheduler's wake-up latency instead.
//
// So spinners yield through yield(), which times the yield. One that lasted
// longer than our own threads keep a CPU between two yields (taken_after)
// marks the CPU as taken by another program, unless one of our async
// workers was busy there before and after it (then the slice was most
// likely its poll: a task submitting a flood of jobs). Spinning pauses,
// everywhere, when such yields have become common (long_yields_percent_to_
// pause of the last ~32: next to busy loops ~45% are, under a load
// generator such as wrk driving http_sqlite 7%, and there spinning still
// pays: /ping p99 2.0 ms with it, 2.5 ms with spins paused on every long
// yield, 4 alternated rounds) and every CPU the thread may use is taken:
// each was marked within `recent`, or, since a lone spinner marks only its
// own CPU, it never idled between two looks at /proc/stat (idle_watch,
// util/cpu_load.hpp) and has no busy worker of ours. One CPU taken
// (compare.sh --noisy) seldom pauses anything (none in throughput, round
// trip and timer runs; 11 in an echo run, whose client thread kept the
// other CPU busy), so spinners on the free CPU still save their wakes. A
// pause lasts min_pause and doubles, up to max_pause, each time the first
// spin after it finds the same; once spins have found the CPUs free for
// longer than the last pause it starts over.
#include <chrono>

namespace weft::detail {

class spin_pause {
public:
  /// Longer than our own threads keep a CPU between two yields of a spinner
  /// (a pass of 1-2 µs; a few hundred µs in a wave of 256 completions),
  /// shorter than another thread's time slice (1.5-3 ms here).
  static constexpr std::chrono::microseconds taken_after{1000};
  /// How recently every CPU must have been found taken.
  static constexpr std::chrono::milliseconds recent{50};
  /// How common long yields are among the recent ones (percent).
  static constexpr int long_yields_percent_to_pause = 25;
  static constexpr std::chrono::milliseconds min_pause{10};
  static constexpr std::chrono::milliseconds max_pause{1280};

  /// False while spinning is paused: park instead.
  static bool may_spin() noexcept;

  /// sched_yield(); false if the yield showed another program holding every
  /// CPU (spinning is then paused): stop spinning and park.
  static bool yield() noexcept;

  /// An async worker starts polling tasks on the calling thread's CPU;
  /// returns that CPU for worker_idle().
  static int worker_busy() noexcept;
  /// The worker that worker_busy() returned `cpu` to (-1: none) stopped.
  static void worker_idle(int cpu) noexcept;
};

}  // namespace weft::detail

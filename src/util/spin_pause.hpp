// SPDX-License-Identifier: MIT
#pragma once
// When the threads that spin for work (an idle async worker, a pool thread
// waiting for its next job) should not spin at all, process-wide.
//
// Such a thread spins ~20 µs before it parks, with a sched_yield between
// passes so that a thread of ours sharing its CPU can run: on a CPU that
// would otherwise idle, that saves the ~21 µs wake of a halted vCPU. When
// another program holds every CPU (a busy loop on each), each yield hands it
// a whole time slice (1.5-3 ms under EEVDF), and work handed to the spinner
// meanwhile waits as long: blocking_roundtrip took 2.6 ms at the median and
// timer_idle's ticks were 570 µs late (bench/README, "Every CPU taken"). A
// parked thread gets a CPU within the scheduler's wake-up latency instead.
//
// So spinners yield through yield(), which times the yield. One longer than
// our own threads keep a CPU between two yields (taken_after) pauses all
// spinning for min_pause if such yields have become common (a quarter of
// the last ~32) and every_cpu_taken() (util/cpu_load.hpp) says threads
// other than the runtime's own want every CPU. The pause doubles, up to
// max_pause, each time the first spin after it finds the same, and starts
// over once spins have found the CPUs free for longer than the last pause.
// No sign alone pauses: a long yield can be our own submitting worker's
// long poll; and under a load generator (wrk driving http_sqlite: 5-9
// runnable threads on 2 CPUs) the reading says yes nearly always and 7% of
// yields are long, yet spinning still pays (/ping p99 1.9 ms with it,
// 2.5 ms with spins paused on every long yield), while next to busy loops
// 45% are.
#include <chrono>

namespace weft::detail {

class spin_pause {
public:
  /// Longer than our own threads keep a CPU between two yields of a spinner
  /// (a pass of 1-2 µs; a few hundred µs in a wave of 256 completions),
  /// shorter than another thread's time slice (1.5-3 ms here).
  static constexpr std::chrono::microseconds taken_after{1000};
  static constexpr std::chrono::milliseconds min_pause{10};
  static constexpr std::chrono::milliseconds max_pause{1280};
  /// How common long yields are among the recent ones (percent) before one
  /// pauses: ~45% next to busy loops, ~7% under wrk's load.
  static constexpr int long_yields_percent_to_pause = 25;

  /// False while spinning is paused: park instead.
  static bool may_spin() noexcept;

  /// sched_yield(); false if the yield showed another program holding every
  /// CPU (spinning is then paused): stop spinning and park.
  static bool yield() noexcept;
};

}  // namespace weft::detail

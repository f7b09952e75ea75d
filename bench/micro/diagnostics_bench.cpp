// SPDX-License-Identifier: MIT
// diagnostics.hpp: what the stall detector costs per poll (DESIGN §6: a few
// relaxed stores a poll, no clock read). The same loops with the detector
// on (/1, the default) and off (/0, stall and long-blocking thresholds 0),
// on a current-thread runtime, so that no second worker's stealing adds
// noise to a difference of a few nanoseconds:
//  - yield_now: one poll per iteration, nothing else (the worst case);
//  - spawn_await: a spawn, two polls and a wake-up per iteration.
// Run with repetitions and compare the "min" rows: on this shared machine a
// median moves by ±20% between runs, the fastest repetition much less.
//   weft-micro-diagnostics --benchmark_repetitions=30 --benchmark_min_time=0.05
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include "micro_support.hpp"

#include <weft/spawn.hpp>

#include <chrono>

namespace {

using namespace std::chrono_literals;

weft::runtime build_runtime(bool diagnostics_on) {
  auto b = weft::runtime::builder::current_thread();
  if (!diagnostics_on) b.stall_threshold(0ns).long_blocking_threshold(0ns);
  return b.build();
}

weft::task<void> yield_rounds(benchmark::State& state) {
  for (auto _ : state) co_await weft::yield_now();
}

weft::task<void> spawn_awaits(benchmark::State& state) {
  for (auto _ : state) co_await weft::spawn(weft_bench::noop());
}

void BM_diagnostics_yield_now(benchmark::State& state) {
  weft::runtime rt = build_runtime(state.range(0) != 0);
  rt.block_on(yield_rounds(state));
}
BENCHMARK(BM_diagnostics_yield_now)->Arg(0)->Arg(1)->ArgName("on")->ComputeStatistics("min", weft_bench::fastest);

void BM_diagnostics_spawn_await(benchmark::State& state) {
  weft::runtime rt = build_runtime(state.range(0) != 0);
  rt.block_on(spawn_awaits(state));
}
BENCHMARK(BM_diagnostics_spawn_await)->Arg(0)->Arg(1)->ArgName("on")->ComputeStatistics("min", weft_bench::fastest);

}  // namespace

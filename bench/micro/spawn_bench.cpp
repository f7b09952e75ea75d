// SPDX-License-Identifier: MIT
// spawn.hpp: spawning and awaiting one async task, and one yield_now round
// (the wake path: the task re-queues itself on its worker and is polled again).
#include "micro_support.hpp"

#include <weft/spawn.hpp>

namespace {

weft::task<void> spawn_await(benchmark::State& state) {
  for (auto _ : state) {
    auto h = weft::spawn(weft_bench::noop());
    co_await h;
  }
}

void BM_spawn_await_one(benchmark::State& state) { weft_bench::run_in_runtime(state, spawn_await); }
BENCHMARK(BM_spawn_await_one)->UseRealTime();

weft::task<void> yield_rounds(benchmark::State& state) {
  for (auto _ : state) co_await weft::yield_now();
}

void BM_spawn_yield_now(benchmark::State& state) { weft_bench::run_in_runtime(state, yield_rounds); }
BENCHMARK(BM_spawn_yield_now)->UseRealTime();

}  // namespace

// SPDX-License-Identifier: MIT
// The blocking pool: push (spawn_blocking) and pop (a pool thread takes the
// job, runs it, wakes the awaiting task).
//  - roundtrip: one spawn_blocking awaited at a time (BENCHMARKS'
//    blocking_roundtrip in a loop);
//  - batch: 1000 spawn_blocking, then all awaited (blocking_throughput's
//    shape); items/s is jobs/s.
#include "micro_support.hpp"

#include <weft/spawn.hpp>

#include <cstdint>
#include <vector>

namespace {

weft::task<void> roundtrips(benchmark::State& state) {
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto h = weft::spawn_blocking([i] { return i; });
    benchmark::DoNotOptimize(co_await h);
    ++i;
  }
}

void BM_blocking_roundtrip(benchmark::State& state) { weft_bench::run_in_runtime(state, roundtrips); }
BENCHMARK(BM_blocking_roundtrip)->UseRealTime();

constexpr int batch = 1000;

weft::task<void> batches(benchmark::State& state) {
  std::vector<weft::join_handle<std::uint64_t>> handles;
  handles.reserve(batch);
  for (auto _ : state) {
    handles.clear();
    for (std::uint64_t i = 0; i < batch; ++i) handles.push_back(weft::spawn_blocking([i] { return i; }));
    std::uint64_t sum = 0;
    for (auto& h : handles) sum += co_await h;
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

void BM_blocking_batch(benchmark::State& state) { weft_bench::run_in_runtime(state, batches); }
BENCHMARK(BM_blocking_batch)->UseRealTime();

}  // namespace

// SPDX-License-Identifier: MIT
#pragma once
// Runs a Google Benchmark body as a task on a fresh weft runtime (2 workers,
// bench/README.md's settings), so the timed loop itself runs on a worker.
//
// The loop runs on a worker thread, not on the thread Google Benchmark
// started it from, and a task may move between workers: register every
// benchmark with ->UseRealTime() (CPU time is the benchmark thread's, which
// is blocked in block_on).
#include <weft/runtime.hpp>
#include <weft/task.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace weft_bench {

inline weft::runtime build_runtime() {
  using namespace std::chrono_literals;
  return weft::runtime::builder::multi_thread()
      .worker_threads(2)
      .max_blocking_threads(512)
      .thread_keep_alive(10s)
      .build();
}

/// body: a function taking benchmark::State& and returning weft::task<void>.
template <class Body>
void run_in_runtime(benchmark::State& state, Body body) {
  weft::runtime rt = build_runtime();
  rt.block_on(body(state));
}

inline weft::task<void> noop() { co_return; }

/// A "min" statistic (->ComputeStatistics("min", weft_bench::fastest)): for
/// differences of a few ns, the fastest of interleaved repetitions moves far
/// less than their median on this shared machine.
inline double fastest(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

}  // namespace weft_bench

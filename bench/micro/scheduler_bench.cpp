// SPDX-License-Identifier: MIT
// The scheduler's queues, as far as the public API reaches them:
//  - local queue: spawn() on a worker pushes onto that worker's local queue;
//    a batch of 1000 is spawned, then awaited (push, pop or steal, poll);
//  - global (inject) queue: handle::spawn() from a thread that is not a
//    worker pushes onto the inject queue; the batch is then waited for from
//    that thread (join_handle::wait()).
// Each iteration is a batch; items/s is tasks/s.
#include "micro_support.hpp"

#include <weft/spawn.hpp>

#include <vector>

namespace {

constexpr int batch = 1000;

weft::task<void> local_batches(benchmark::State& state) {
  std::vector<weft::join_handle<void>> handles;
  handles.reserve(batch);
  for (auto _ : state) {
    handles.clear();
    for (int i = 0; i < batch; ++i) handles.push_back(weft::spawn(weft_bench::noop()));
    for (auto& h : handles) co_await h;
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

void BM_scheduler_local_queue(benchmark::State& state) { weft_bench::run_in_runtime(state, local_batches); }
BENCHMARK(BM_scheduler_local_queue)->UseRealTime();

void BM_scheduler_global_queue(benchmark::State& state) {
  weft::runtime rt = weft_bench::build_runtime();
  weft::handle handle = rt.get_handle();
  std::vector<weft::join_handle<void>> handles;
  handles.reserve(batch);
  for (auto _ : state) {
    handles.clear();
    for (int i = 0; i < batch; ++i) handles.push_back(handle.spawn(weft_bench::noop()));
    for (auto& h : handles) {
      if (!h.wait()) state.SkipWithError("task failed");
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_scheduler_global_queue)->UseRealTime();

}  // namespace

// SPDX-License-Identifier: MIT
// The timer wheel: insert and cancel, through the public API only. Both
// cases include one async spawn (subtract BM_spawn_await_one for the timer's
// share).
//  - timeout_ready: weft::timeout(1 h, op) where op finishes at once: the
//    deadline timer is inserted, then removed when op wins;
//  - timeout_expired: weft::timeout(0 ns, sleep(1 h)): the operation is
//    cancelled and released, and timeout gives elapsed;
//  - sleep_abort: a spawned sleep(1 h) is polled (its timer inserted), then
//    aborted (the frame destroyed, the timer removed);
//  - busy_poll_check: what a busy worker's due-timer check costs a poll:
//    yield_now on a current-thread runtime with no timer armed (/0) and with
//    a sleep(1 h) armed (/1, where an unpaced check reads the clock). Compare
//    the "min" rows of interleaved repetitions.
#include "micro_support.hpp"

#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include <chrono>

namespace {

using namespace std::chrono_literals;

weft::task<void> timeouts(benchmark::State& state) {
  for (auto _ : state) {
    auto r = co_await weft::timeout(1h, weft::yield_now());
    if (!r) state.SkipWithError("timeout fired");
  }
}

void BM_time_timeout_ready(benchmark::State& state) { weft_bench::run_in_runtime(state, timeouts); }
BENCHMARK(BM_time_timeout_ready)->UseRealTime();

weft::task<void> sleep_aborts(benchmark::State& state) {
  for (auto _ : state) {
    auto h = weft::spawn(weft::sleep(1h));
    co_await weft::yield_now();   // lets the sleep run up to its timer (usually on this worker)
    h.abort();
    auto r = co_await h.join();
    benchmark::DoNotOptimize(r);
  }
}

void BM_time_sleep_abort(benchmark::State& state) { weft_bench::run_in_runtime(state, sleep_aborts); }
BENCHMARK(BM_time_sleep_abort)->UseRealTime();

// timeout whose deadline has passed: the operation starts, is cancelled at
// its first suspension and released, and timeout gives elapsed.
weft::task<void> expired_timeouts(benchmark::State& state) {
  for (auto _ : state) {
    auto r = co_await weft::timeout(0ns, weft::sleep(1h));
    if (r) state.SkipWithError("timeout did not fire");
  }
}

void BM_time_timeout_expired(benchmark::State& state) { weft_bench::run_in_runtime(state, expired_timeouts); }
BENCHMARK(BM_time_timeout_expired)->UseRealTime();

weft::task<void> yields_beside_a_sleep(benchmark::State& state, bool armed) {
  auto sleeper = armed ? weft::spawn(weft::sleep(1h)) : weft::spawn(weft::yield_now());
  co_await weft::yield_now();   // the sleep's timer is armed from here on
  for (auto _ : state) co_await weft::yield_now();
  sleeper.abort();
}

void BM_time_busy_poll_check(benchmark::State& state) {
  weft::runtime rt = weft::runtime::builder::current_thread().build();
  rt.block_on(yields_beside_a_sleep(state, state.range(0) != 0));
}
BENCHMARK(BM_time_busy_poll_check)->Arg(0)->Arg(1)->ArgName("armed")->ComputeStatistics("min", weft_bench::fastest);

}  // namespace

// SPDX-License-Identifier: MIT
// Heap allocations per spawn_blocking (DESIGN §7: at most one), counted by
// replacing the global operator new in this program only
// (tests/support/counting_new.cpp). Every thread's allocations count (the pool threads' too), so
// the figures include whatever the pool does per job.
//
//   weft-micro-blocking-allocs        prints one line per case, e.g.
//   spawn_blocking roundtrip: 1.000 allocations/op (24.0 bytes/op), 10000 ops
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>

#include "counting_new.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stop_token>
#include <vector>

namespace {

constexpr std::uint64_t ops = 10'000;

struct counts {
  std::uint64_t allocations = 0;
  std::uint64_t bytes = 0;
  std::uint64_t threads_started = 0;
};

struct snapshot {
  weft::test::allocation_totals at = weft::test::allocations_so_far();
  std::uint64_t t = weft::handle::current().metrics().blocking_threads_started;
  counts since() const {
    const weft::test::allocation_totals now = weft::test::allocations_so_far();
    const std::uint64_t t_now = weft::handle::current().metrics().blocking_threads_started;
    return {now.allocations - at.allocations, now.bytes - at.bytes, t_now - t};
  }
};

weft::task<void> roundtrips(std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) {
    auto h = weft::spawn_blocking([i] { return i; });
    if (co_await h != i) std::abort();
  }
}

weft::task<counts> measure_roundtrip() {
  co_await roundtrips(1000);   // warm-up: pool thread started, caches filled
  snapshot s;
  co_await roundtrips(ops);
  co_return s.since();
}

weft::task<void> batch(std::vector<weft::join_handle<std::uint64_t>>& handles) {
  handles.clear();
  for (std::uint64_t i = 0; i < ops; ++i) handles.push_back(weft::spawn_blocking([i] { return i; }));
  std::uint64_t sum = 0;
  for (auto& h : handles) sum += co_await h;
  if (sum != ops * (ops - 1) / 2) std::abort();
}

weft::task<counts> measure_batch() {
  std::vector<weft::join_handle<std::uint64_t>> handles;
  handles.reserve(ops);   // outside the count
  co_await batch(handles);   // warm-up: the pool grows to what a batch needs
  snapshot s;
  co_await batch(handles);
  co_return s.since();
}

weft::task<void> stop_aware_roundtrips(std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) {
    auto h = weft::spawn_blocking([i](std::stop_token) { return i; });
    if (co_await h != i) std::abort();
  }
}

weft::task<counts> measure_stop_aware() {
  co_await stop_aware_roundtrips(1000);
  snapshot s;
  co_await stop_aware_roundtrips(ops);
  co_return s.since();
}

weft::task<std::uint64_t> return_index(std::uint64_t i) { co_return i; }

weft::task<void> spawns(std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) {
    auto h = weft::spawn(return_index(i));
    if (co_await h != i) std::abort();
  }
}

weft::task<counts> measure_spawn() {
  co_await spawns(1000);
  snapshot s;
  co_await spawns(ops);
  co_return s.since();
}

void report(const char* what, const counts& c) {
  std::printf("%-40s %.3f allocations/op (%.1f bytes/op), %llu ops, %llu blocking threads started meanwhile\n", what,
              static_cast<double>(c.allocations) / static_cast<double>(ops),
              static_cast<double>(c.bytes) / static_cast<double>(ops), static_cast<unsigned long long>(ops),
              static_cast<unsigned long long>(c.threads_started));
}

}  // namespace

int main() {
  using namespace std::chrono_literals;
  auto build = [] {
    return weft::runtime::builder::multi_thread()
        .worker_threads(2)
        .max_blocking_threads(512)
        .thread_keep_alive(10s)
        .build();
  };
  {
    weft::runtime rt = build();
    report("spawn_blocking roundtrip (f()):", rt.block_on(measure_roundtrip()));
  }
  {
    weft::runtime rt = build();
    report("spawn_blocking batch of 10000 (f()):", rt.block_on(measure_batch()));
  }
  {
    weft::runtime rt = build();
    report("spawn_blocking roundtrip (f(stop_token)):", rt.block_on(measure_stop_aware()));
  }
  {
    weft::runtime rt = build();
    report("spawn + await (async task):", rt.block_on(measure_spawn()));
  }
  return 0;
}

// SPDX-License-Identifier: MIT
// Stress for named pools: 8 threads spawning, try_spawning, admitting and
// aborting across 3 pools (the default one, a bounded one, and one that
// sheds jobs past max_queue_wait), with exact-once accounting: every job runs
// at most once, a job whose handle gave a value ran exactly once, one that
// was cancelled or rejected never ran, and every capture is destroyed.
// WEFT_STRESS_ITERS scales the counts; the seed is printed.
#include <weft/pool.hpp>

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>

#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using weft::task;
using weft::test::lifetime_probe;

struct ledger {
  explicit ledger(std::size_t n) : runs(n) {}
  std::vector<std::atomic<int>> runs;   // per job id: how often its closure ran
  std::atomic<int> live{0};             // captures alive
};

enum class outcome { value, cancelled, rejected, unknown };

template <class T>
outcome classify(const std::expected<T, weft::join_error>& r) {
  if (r) return outcome::value;
  if (r.error().is_rejected()) return outcome::rejected;
  if (r.error().is_cancelled()) return outcome::cancelled;
  return outcome::unknown;
}

TEST(PoolStress, EightThreadsSpawnAndAbortAcrossThreePoolsExactlyOnce) {
  const std::uint64_t seed = weft::test::stress_seed();
  SCOPED_TRACE("seed " + std::to_string(seed));
  const std::size_t per_thread = weft::test::stress_iterations(40'000) / 8;
  constexpr int num_threads = 8;
  const std::size_t total = per_thread * num_threads;

  auto rt = weft::runtime::builder::multi_thread()
                .worker_threads(2)
                .max_blocking_threads(4)
                .blocking_pool("bounded", {.max_threads = 2, .queue_capacity = 8})
                .blocking_pool("shedding", {.max_threads = 1, .max_queue_wait = 200us})
                .build();
  auto book = std::make_shared<ledger>(total);
  const std::vector<weft::blocking_pool> pools = {rt.pool("blocking"), rt.pool("bounded"), rt.pool("shedding")};
  std::vector<std::vector<outcome>> outcomes(num_threads, std::vector<outcome>(per_thread, outcome::unknown));
  std::atomic<std::size_t> admit_cancelled{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < num_threads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + static_cast<std::uint64_t>(t));
      weft::handle h = rt.get_handle();
      for (std::size_t k = 0; k < per_thread; ++k) {
        const std::size_t id = static_cast<std::size_t>(t) * per_thread + k;
        const weft::blocking_pool& pool = pools[rng() % pools.size()];
        auto job = [book, id, p = lifetime_probe(book->live)] {
          book->runs[id].fetch_add(1, std::memory_order_relaxed);
          return id;
        };
        const unsigned op = rng() % 8;
        const bool abort = rng() % 3 == 0;
        outcome& out = outcomes[static_cast<std::size_t>(t)][k];
        if (op < 4) {
          auto jh = pool.spawn(std::move(job));
          if (abort) jh.abort();
          out = classify(jh.wait());
        } else if (op < 6) {
          auto r = pool.try_spawn(std::move(job));
          if (!r) {
            out = outcome::rejected;   // the closure is still ours: it never runs
            continue;
          }
          if (abort) r->abort();
          out = classify(r->wait());
        } else {
          // admit from a task; abort the task itself (maybe while it waits).
          auto outer = h.spawn([](weft::blocking_pool p, decltype(job) f) -> task<std::size_t> {
            auto inner = co_await p.admit(std::move(f));
            co_return co_await inner;
          }(pool, std::move(job)));
          if (abort) outer.abort();
          const auto r = outer.wait();
          out = classify(r);
          if (out == outcome::cancelled) {
            out = outcome::unknown;   // aborted after submit: it may have run (once)
            admit_cancelled.fetch_add(1, std::memory_order_relaxed);
          } else if (!r && r.error().is_panic()) {
            // The inner handle was rejected (shedding): co_await rethrew it.
            try {
              std::rethrow_exception(r.error().panic_payload());
            } catch (const weft::join_error& e) {
              out = e.is_rejected() ? outcome::rejected : (e.is_cancelled() ? outcome::unknown : out);
            } catch (...) {}
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  std::size_t ran = 0, values = 0, wrong = 0;
  for (int t = 0; t < num_threads; ++t) {
    for (std::size_t k = 0; k < per_thread; ++k) {
      const std::size_t id = static_cast<std::size_t>(t) * per_thread + k;
      const int runs = book->runs[id].load();
      ran += static_cast<std::size_t>(runs);
      switch (outcomes[static_cast<std::size_t>(t)][k]) {
      case outcome::value:
        ++values;
        wrong += runs != 1;
        break;
      case outcome::cancelled:
      case outcome::rejected: wrong += runs != 0; break;
      case outcome::unknown: wrong += runs > 1; break;
      }
    }
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_GE(ran, values);
  EXPECT_EQ(book->live.load(), 0);   // every capture destroyed
  std::uint64_t completed = 0;
  for (const auto& p : pools) {
    const auto m = p.metrics();
    EXPECT_EQ(m.queue_depth, 0u) << m.name;
    EXPECT_EQ(m.admit_waiters, 0u) << m.name;
    completed += m.completed;
  }
  EXPECT_GE(completed, ran);
  std::printf("%zu jobs: %zu ran, %zu gave a value, %zu admit tasks aborted\n", total, ran, values,
              admit_cancelled.load());
}

}  // namespace

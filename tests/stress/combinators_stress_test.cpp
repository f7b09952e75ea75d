// SPDX-License-Identifier: MIT
// Stress for the combinators' cancel safety, with exact accounting:
// * when_any(rx.recv(), sleep(...)) in a loop against producers on other
//   workers: every message arrives exactly once and in each producer's
//   order, however many recvs lose to the sleep (default 100,000 messages);
// * a cancellation_token cancelled from a foreign thread while tasks await
//   cancelled() (directly, through children, inside when_any): every waiter
//   wakes exactly once (run it under tsan).
//
// WEFT_STRESS_ITERS scales the work; WEFT_STRESS_SEED fixes the seed, which
// every failure prints.
#include <weft/combinators.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/sync.hpp>
#include <weft/time.hpp>

#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using weft::task;

struct tally {
  std::uint64_t received = 0;
  std::uint64_t lost_races = 0;   // recvs cancelled because the sleep won
  std::uint64_t errors = 0;       // a message out of order, duplicated or unknown
};

task<void> produce(weft::mpsc::sender<std::uint64_t> tx, std::uint64_t producer, std::uint64_t count,
                   std::uint64_t seed) {
  std::mt19937_64 rng(seed + producer);
  for (std::uint64_t i = 0; i < count; ++i) {
    co_await tx.send(producer << 40 | i);
    if (rng() % 8 == 0) co_await weft::sleep(std::chrono::microseconds(rng() % 20));
  }
}

/// Receives until every sender is gone, each recv raced against a short
/// sleep (placed first or second, so both tie orders are exercised).
task<tally> consume(weft::mpsc::receiver<std::uint64_t> rx, std::size_t producers, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> next(producers, 0);
  tally t;
  for (;;) {
    const auto nap = std::chrono::nanoseconds(rng() % 4 == 0 ? 0 : rng() % 20'000);
    std::optional<std::uint64_t> msg;
    bool got = false;
    if (rng() % 2 == 0) {
      auto r = co_await weft::when_any(rx.recv(), weft::sleep(nap));
      if (r.index() == 0) {
        got = true;
        msg = std::get<0>(std::move(r));
      }
    } else {
      auto r = co_await weft::when_any(weft::sleep(nap), rx.recv());
      if (r.index() == 1) {
        got = true;
        msg = std::get<1>(std::move(r));
      }
    }
    if (!got) {
      ++t.lost_races;
      continue;
    }
    if (!msg) co_return t;
    const std::uint64_t producer = *msg >> 40, seq = *msg & ((std::uint64_t{1} << 40) - 1);
    if (producer >= producers || seq != next[producer]) ++t.errors;
    else ++next[producer];
    ++t.received;
  }
}

TEST(CombinatorsStress, WhenAnyRecvVersusSleepLosesNoMessage) {
  const std::uint64_t seed = weft::test::stress_seed();
  const std::uint64_t total = weft::test::stress_iterations(100'000);
  constexpr std::size_t producers = 3;
  auto rt = weft::runtime::builder::multi_thread().worker_threads(3).build();
  auto body = [](std::uint64_t s, std::uint64_t n) -> task<tally> {
    auto [tx, rx] = weft::mpsc::channel<std::uint64_t>(8);
    std::vector<weft::join_handle<void>> senders;
    for (std::size_t p = 0; p < producers; ++p) senders.push_back(weft::spawn(produce(tx, p, n / producers, s)));
    { auto drop = std::move(tx); }
    tally t = co_await consume(std::move(rx), producers, s);
    for (auto& h : senders) co_await h;
    co_return t;
  };
  const tally t = rt.block_on(body(seed, total));
  const std::uint64_t expected = total / producers * producers;
  EXPECT_EQ(t.errors, 0u) << "seed " << seed;
  EXPECT_EQ(t.received, expected) << "seed " << seed;
  std::printf("when_any(recv, sleep): %llu messages, %llu recvs lost the race to the sleep, 0 messages lost\n",
              static_cast<unsigned long long>(t.received), static_cast<unsigned long long>(t.lost_races));
}

TEST(CombinatorsStress, TokenCancelledFromAForeignThreadWakesEveryWaiterOnce) {
  const std::uint64_t seed = weft::test::stress_seed();
  const std::uint64_t rounds = weft::test::stress_iterations(100'000) / 500 + 1;
  auto rt = weft::runtime::builder::multi_thread().worker_threads(3).build();
  std::mt19937_64 rng(seed);
  constexpr int waiters = 24;
  for (std::uint64_t round = 0; round < rounds; ++round) {
    weft::cancellation_token root;
    std::atomic<int> woken{0};
    std::vector<weft::join_handle<void>> handles;
    for (int i = 0; i < waiters; ++i) {
      auto waiter = [](weft::cancellation_token t, int kind, std::atomic<int>* count) -> task<void> {
        if (kind == 0) {
          co_await t.cancelled();
        } else if (kind == 1) {
          co_await t.child().cancelled();
        } else {
          // Keep racing a short sleep until the token wins.
          for (;;) {
            auto r = co_await weft::when_any(weft::sleep(std::chrono::microseconds(5)), t.cancelled());
            if (r.index() == 1) break;
          }
        }
        if (!t.is_cancelled()) count->fetch_add(1000);   // woken before the cancel: an error
        count->fetch_add(1);
      };
      handles.push_back(rt.get_handle().spawn(waiter(root, static_cast<int>(rng() % 3), &woken)));
    }
    const auto delay = std::chrono::microseconds(rng() % 200);
    std::thread foreign([&root, delay] {
      std::this_thread::sleep_for(delay);
      root.cancel();
    });
    for (auto& h : handles) {
      auto r = h.wait();
      EXPECT_TRUE(r.has_value()) << "seed " << seed;
    }
    foreign.join();
    ASSERT_EQ(woken.load(), waiters) << "seed " << seed << " round " << round;
  }
}

}  // namespace

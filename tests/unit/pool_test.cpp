// SPDX-License-Identifier: MIT
// Blocking pools as resources, sentence by sentence of DESIGN §8: named
// pools, bounded queues (reject, try_spawn, admit), max_queue_wait, the
// compute pool with parallel_for, spawn_thread, and their metrics.
#include <weft/pool.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include "weft_task_helpers.hpp"
#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <latch>
#include <memory>
#include <mutex>
#include <numeric>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <set>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using weft::join_error;
using weft::pool_options;
using weft::runtime;
using weft::task;
using weft::test::eventually;
using weft::test::lifetime_probe;

using weft::test::gate;
using weft::test::thread_name;

runtime with_pool(std::string name, pool_options options, std::size_t workers = 2) {
  return runtime::builder::multi_thread().worker_threads(workers).blocking_pool(std::move(name), options).build();
}

/// build() must throw std::invalid_argument whose text names `pool` and `field`.
template <class Configure>
void expect_refused(Configure configure, const std::string& pool, const std::string& field) {
  auto builder = runtime::builder::multi_thread().worker_threads(1);
  configure(builder);
  try {
    (void)builder.build();
    ADD_FAILURE() << "build() accepted a bad " << field << " of pool " << pool;
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(pool), std::string::npos) << what;
    EXPECT_NE(what.find(field), std::string::npos) << what;
  }
}

// -- declaring and finding pools ------------------------------------------------------------

TEST(Pool, BuildRefusesBadOptionsNamingThePoolAndTheField) {
  expect_refused([](auto& b) { b.blocking_pool("db", {.max_threads = 0}); }, "\"db\"", "max_threads");
  expect_refused([](auto& b) { b.blocking_pool("db", {.queue_capacity = 0}); }, "\"db\"", "queue_capacity");
  expect_refused([](auto& b) { b.blocking_pool("db", {.max_queue_wait = -1ms}); }, "\"db\"", "max_queue_wait");
  expect_refused([](auto& b) { b.blocking_pool("db", {.keep_alive = -1s}); }, "\"db\"", "keep_alive");
  expect_refused([](auto& b) { b.blocking_pool("", {}); }, "pool", "name");
  expect_refused([](auto& b) { b.blocking_pool("db", {}).blocking_pool("db", {}); }, "\"db\"", "twice");
  expect_refused([](auto& b) { b.compute_threads(0); }, "compute", "compute_threads");
  expect_refused([](auto& b) { b.blocking_pool("blocking", {.max_threads = 0}); }, "\"blocking\"", "max_threads");
  expect_refused([](auto& b) { b.blocking_pool("compute", {.queue_capacity = 0}); }, "\"compute\"", "queue_capacity");
  expect_refused([](auto& b) { b.blocking_pool("db", {.nice = -1}); }, "\"db\"", "nice");
  expect_refused([](auto& b) { b.blocking_pool("db", {.nice = 20}); }, "\"db\"", "nice");
  expect_refused([](auto& b) { b.blocking_pool("blocking", {.nice = 20}); }, "\"blocking\"", "nice");
}

/// The nice value of the calling thread (Linux: PRIO_PROCESS 0 is this thread).
int this_thread_nice() {
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, 0);
  EXPECT_EQ(errno, 0);
  return nice;
}

TEST(Pool, PoolThreadsRunTheirNiceIncrementBelowTheWorkers) {
  const int base = this_thread_nice();   // the workers inherit the building thread's
  auto rt = runtime::builder::multi_thread()
                .worker_threads(1)
                .blocking_pool("background", {.nice = 12})
                .blocking_pool("db", {.nice = 5})
                .build();
  auto body = []() -> task<std::vector<int>> {
    const auto h = weft::handle::current();
    std::vector<int> seen;
    seen.push_back(this_thread_nice());                                              // an async worker
    seen.push_back(co_await weft::spawn_blocking([] { return this_thread_nice(); }));   // default 0
    seen.push_back(co_await weft::spawn_compute([] { return this_thread_nice(); }));    // default 0
    seen.push_back(co_await h.pool("background").spawn([] { return this_thread_nice(); }));
    seen.push_back(co_await h.pool("db").spawn([] { return this_thread_nice(); }));
    seen.push_back(co_await weft::spawn_thread("t", [] { return this_thread_nice(); }));   // not a pool
    co_return seen;
  };
  const auto capped = [](int n) { return std::min(19, n); };
  EXPECT_EQ(rt.block_on(body()), (std::vector<int>{base, base, base, capped(base + 12), capped(base + 5), base}));
}

// pool_options::sched_batch: a pool's threads run SCHED_BATCH when asked,
// SCHED_OTHER by default; the async workers and spawn_thread keep the
// building thread's policy; the nice increment still applies under
// SCHED_BATCH.
TEST(Pool, PoolThreadsRunSchedBatchWhenAskedAndTheirNiceStillApplies) {
  const int base = this_thread_nice();
  ASSERT_EQ(sched_getscheduler(0), SCHED_OTHER);
  auto rt = runtime::builder::multi_thread()
                .worker_threads(1)
                .blocking_pool("batch", {.sched_batch = true})
                .blocking_pool("background", {.nice = 7, .sched_batch = true})
                .blocking_pool("compute", {.sched_batch = true})
                .build();
  auto body = []() -> task<std::vector<int>> {
    const auto h = weft::handle::current();
    std::vector<int> seen;
    seen.push_back(sched_getscheduler(0));   // an async worker
    seen.push_back(co_await weft::spawn_blocking([] { return sched_getscheduler(0); }));   // default
    seen.push_back(co_await weft::spawn_compute([] { return sched_getscheduler(0); }));
    seen.push_back(co_await h.pool("batch").spawn([] { return sched_getscheduler(0); }));
    seen.push_back(co_await h.pool("background").spawn([] { return sched_getscheduler(0); }));
    seen.push_back(co_await weft::spawn_thread("t", [] { return sched_getscheduler(0); }));   // not a pool
    seen.push_back(co_await h.pool("background").spawn([] { return this_thread_nice(); }));
    co_return seen;
  };
  EXPECT_EQ(rt.block_on(body()), (std::vector<int>{SCHED_OTHER, SCHED_OTHER, SCHED_BATCH, SCHED_BATCH, SCHED_BATCH,
                                                   SCHED_OTHER, std::min(19, base + 7)}));
}

TEST(Pool, LaterBuilderCallsWin) {
  // A bad value replaced by a later call is not an error.
  EXPECT_NO_THROW((void)runtime::builder::multi_thread()
                      .blocking_pool("blocking", {.max_threads = 0})
                      .max_blocking_threads(2)
                      .compute_threads(0)
                      .compute_threads(3)
                      .build());
  // blocking_pool("blocking", ...) and max_blocking_threads set the same pool.
  auto rt = runtime::builder::multi_thread()
                .worker_threads(2)
                .max_blocking_threads(7)
                .blocking_pool("blocking", {.max_threads = 1})
                .build();
  gate g;
  auto body = [&]() -> task<std::size_t> {
    auto a = weft::spawn_blocking([&g] { g.pass(); });
    auto b = weft::spawn_blocking([&g] { g.pass(); });
    co_await weft::sleep(20ms);   // well past the 1 ms wait for a new thread
    const std::size_t threads = weft::handle::current().metrics().blocking_threads;
    g.open.count_down();
    co_await a;
    co_await b;
    co_return threads;
  };
  EXPECT_EQ(rt.block_on(body()), 1u);
}

TEST(Pool, PoolByNameAndUnknownNameThrowsOutOfRangeNamingIt) {
  auto rt = with_pool("db", {});
  EXPECT_EQ(rt.pool("db").name(), "db");
  EXPECT_EQ(rt.pool("blocking").name(), "blocking");
  EXPECT_EQ(rt.get_handle().pool("compute").name(), "compute");
  try {
    (void)rt.get_handle().pool("nope");
    ADD_FAILURE() << "no exception";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)rt.pool("thread"), std::out_of_range);   // spawn_thread counts in no pool
}

TEST(Pool, ANamedPoolRunsOnItsOwnThreadsUpToItsCap) {
  auto rt = runtime::builder::multi_thread()
                .worker_threads(2)
                .blocking_pool("db", {.max_threads = 2})
                .blocking_pool("files", {.max_threads = 3})
                .build();
  gate g;
  std::mutex mutex;
  std::set<std::string> db_names, files_names;
  std::set<std::thread::id> db_ids, files_ids;
  auto body = [&]() -> task<void> {
    auto db = weft::handle::current().pool("db");
    auto files = weft::handle::current().pool("files");
    std::vector<weft::join_handle<void>> hs;
    for (int i = 0; i < 6; ++i) {
      hs.push_back(db.spawn([&] {
        {
          std::lock_guard lock(mutex);
          db_names.insert(thread_name());
          db_ids.insert(std::this_thread::get_id());
        }
        g.pass();
      }));
      hs.push_back(files.spawn([&] {
        std::lock_guard lock(mutex);
        files_names.insert(thread_name());
        files_ids.insert(std::this_thread::get_id());
      }));
    }
    // Its second thread comes after spawn_delay, later on a loaded host.
    const bool grew = co_await weft::test::wait_until([&db] { return db.metrics().threads >= 2; });
    EXPECT_TRUE(grew);
    co_await weft::sleep(10ms);   // a third thread, if the cap let one start, would be up by now
    EXPECT_EQ(db.metrics().threads, 2u);   // the cap, while every job blocks
    EXPECT_EQ(db.metrics().queue_depth, 4u);
    g.open.count_down();
    for (auto& h : hs) co_await h;
  };
  rt.block_on(body());
  EXPECT_EQ(db_names, std::set<std::string>{"weft-db"});
  EXPECT_EQ(files_names, std::set<std::string>{"weft-files"});
  EXPECT_LE(db_ids.size(), 2u);
  for (const auto& id : db_ids) EXPECT_EQ(files_ids.count(id), 0u) << "a thread ran jobs of two pools";
}

// -- backpressure -----------------------------------------------------------------------------

TEST(Pool, SpawnOnAFullQueueGivesAHandleAlreadyRejected) {
  auto rt = with_pool("db", {.max_threads = 1, .queue_capacity = 1});
  gate g;
  std::atomic<int> live{0};
  std::atomic<bool> ran{false};
  auto body = [&]() -> task<void> {
    auto db = weft::handle::current().pool("db");
    auto running = db.spawn([&g] { g.pass(); });
    while (g.arrived.load() == 0) co_await weft::yield_now();
    auto queued = db.spawn([] { return 1; });
    auto refused = db.spawn([&ran, p = lifetime_probe(live)] { ran = true; });
    EXPECT_TRUE(refused.is_finished());   // at once
    EXPECT_EQ(live.load(), 0);            // captures destroyed
    auto r = co_await refused.join();
    EXPECT_FALSE(r.has_value());
    if (!r) {
      EXPECT_TRUE(r.error().is_rejected());
      EXPECT_FALSE(r.error().is_cancelled());
      EXPECT_FALSE(r.error().is_panic());
      EXPECT_EQ(r.error().panic_payload(), nullptr);
      const std::string what = r.error().what();
      EXPECT_NE(what.find("was rejected by pool \"db\": queue full"), std::string::npos) << what;
      EXPECT_NE(what.find("pool_test.cpp"), std::string::npos) << what;
    }
    // co_await h throws the join_error too.
    auto refused2 = db.spawn([] {});
    bool threw = false;
    try {
      co_await refused2;
    } catch (const join_error& e) {
      threw = e.is_rejected();
    }
    EXPECT_TRUE(threw);
    EXPECT_EQ(db.metrics().rejected, 2u);
    g.open.count_down();
    co_await running;
    EXPECT_EQ(co_await queued, 1);
  };
  rt.block_on(body());
  EXPECT_FALSE(ran.load());
}

/// A move-only closure that records whether it was moved from.
struct move_probe {
  std::unique_ptr<int> value = std::make_unique<int>(5);
  int operator()() const { return *value; }
};

TEST(Pool, TrySpawnOnAFullQueueReturnsPoolFullAndLeavesTheClosureUntouched) {
  auto rt = with_pool("db", {.max_threads = 1, .queue_capacity = 1});
  gate g;
  auto body = [&]() -> task<void> {
    auto db = weft::handle::current().pool("db");
    auto running = db.spawn([&g] { g.pass(); });
    while (g.arrived.load() == 0) co_await weft::yield_now();
    move_probe first, second;
    auto ok = db.try_spawn(std::move(first));
    EXPECT_TRUE(ok.has_value());
    EXPECT_EQ(first.value, nullptr);   // taken: the job owns it now
    auto full = db.try_spawn(std::move(second));
    EXPECT_FALSE(full.has_value());
    if (!full) {
      EXPECT_EQ(full.error(), weft::pool_full{});
    }
    EXPECT_NE(second.value, nullptr);  // untouched
    if (second.value) {
      EXPECT_EQ(*second.value, 5);
    }
    g.open.count_down();
    co_await running;
    if (ok) {
      EXPECT_EQ(co_await *ok, 5);
    }
    auto later = db.try_spawn(std::move(second));   // room again
    EXPECT_TRUE(later.has_value());
    if (later) {
      EXPECT_EQ(co_await *later, 5);
    }
  };
  rt.block_on(body());
}

TEST(Pool, AbortOfAQueuedJobFreesItsSlotAtOnce) {
  auto rt = with_pool("db", {.max_threads = 1, .queue_capacity = 1});
  gate g;
  auto body = [&]() -> task<void> {
    auto db = weft::handle::current().pool("db");
    auto running = db.spawn([&g] { g.pass(); });
    while (g.arrived.load() == 0) co_await weft::yield_now();
    auto queued = db.spawn([] {});
    EXPECT_EQ(db.metrics().queue_depth, 1u);
    queued.abort();
    EXPECT_EQ(db.metrics().queue_depth, 0u);
    auto next = db.try_spawn([] { return 3; });
    EXPECT_TRUE(next.has_value());
    g.open.count_down();
    co_await running;
    if (next) {
      EXPECT_EQ(co_await *next, 3);
    }
  };
  rt.block_on(body());
}

TEST(Pool, AdmitSuspendsTheTaskNotTheThreadAndAdmitsInFifoOrder) {
  // One async worker: if admit blocked it, nothing else could run.
  auto rt = with_pool("db", {.max_threads = 1, .queue_capacity = 1}, 1);
  gate g;
  std::mutex mutex;
  std::vector<int> order;
  auto body = [&]() -> task<void> {
    auto db = weft::handle::current().pool("db");
    auto running = db.spawn([&g] { g.pass(); });
    while (g.arrived.load() == 0) co_await weft::yield_now();
    auto filler = db.spawn([] {});
    std::vector<weft::join_handle<weft::join_handle<void>>> admitters;
    for (int i = 0; i < 5; ++i) {
      admitters.push_back(weft::spawn(
          [](weft::blocking_pool pool, int k, std::mutex& m, std::vector<int>& out) -> task<weft::join_handle<void>> {
            auto job = [k, &m, &out] {
              std::lock_guard lock(m);
              out.push_back(k);
            };
            co_return co_await pool.admit(std::move(job));
          }(db, i, mutex, order)));
      // Let admitter i register before i + 1: FIFO is among waiters.
      while (db.metrics().admit_waiters < static_cast<std::size_t>(i + 1)) co_await weft::yield_now();
    }
    EXPECT_EQ(db.metrics().admit_waiters, 5u);   // and this task still runs
    g.open.count_down();
    co_await running;
    co_await filler;
    for (auto& a : admitters) {
      auto h = co_await a;
      co_await h;
    }
  };
  rt.block_on(body());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Pool, AdmitWaitersCancelledBeforeTheirTurnSubmitNothingAndPassTheTurnOn) {
  // Exact counts: of 20 waiters, the 10 aborted ones never run and their
  // captures are destroyed; the 10 others run exactly once.
  auto rt = with_pool("db", {.max_threads = 1, .queue_capacity = 2}, 2);
  gate g;
  std::atomic<int> ran{0};
  std::atomic<int> live{0};
  auto body = [&]() -> task<void> {
    auto db = weft::handle::current().pool("db");
    auto running = db.spawn([&g] { g.pass(); });
    while (g.arrived.load() == 0) co_await weft::yield_now();
    auto f1 = db.spawn([] {});
    auto f2 = db.spawn([] {});
    std::vector<weft::join_handle<weft::join_handle<void>>> waiters;
    for (int i = 0; i < 20; ++i) {
      waiters.push_back(weft::spawn(
          [](weft::blocking_pool pool, std::atomic<int>& r, lifetime_probe p) -> task<weft::join_handle<void>> {
          // Named first: g++ 12 destroys a lambda temporary in a co_await twice.
            auto job = [&r, p] { r.fetch_add(1); };
            co_return co_await pool.admit(std::move(job));
          }(db, ran, lifetime_probe(live))));
    }
    while (db.metrics().admit_waiters < 20) co_await weft::yield_now();
    for (int i = 0; i < 20; i += 2) waiters[i].abort();
    while (db.metrics().admit_waiters > 10) co_await weft::yield_now();
    EXPECT_EQ(db.metrics().queue_depth, 2u);   // no slot taken by a cancelled waiter
    g.open.count_down();
    co_await running;
    co_await f1;
    co_await f2;
    int admitted = 0;
    for (int i = 0; i < 20; ++i) {
      auto r = co_await waiters[i].join();
      if (i % 2 == 0) {
        EXPECT_TRUE(!r && r.error().is_cancelled());
      } else if (r) {
        ++admitted;
        co_await *r;
      }
    }
    EXPECT_EQ(admitted, 10);
  };
  rt.block_on(body());
  EXPECT_EQ(ran.load(), 10);
  EXPECT_EQ(live.load(), 0);
}

TEST(Pool, AdmitUnderTimeoutIsCancelSafe) {
  auto rt = with_pool("db", {.max_threads = 1, .queue_capacity = 1});
  gate g;
  std::atomic<int> ran{0};
  std::atomic<int> live{0};
  auto body = [&]() -> task<void> {
    auto db = weft::handle::current().pool("db");
    auto running = db.spawn([&g] { g.pass(); });
    while (g.arrived.load() == 0) co_await weft::yield_now();
    auto filler = db.spawn([&ran] { ran.fetch_add(1); });
    int timed_out = 0;
    for (int i = 0; i < 5; ++i) {
      auto job = [&ran, p = lifetime_probe(live)] { ran.fetch_add(1); };
      auto r = co_await weft::timeout(5ms, db.admit(std::move(job)));
      if (!r) ++timed_out;
    }
    EXPECT_EQ(timed_out, 5);
    EXPECT_EQ(db.metrics().admit_waiters, 0u);
    EXPECT_EQ(live.load(), 0);
    g.open.count_down();
    co_await running;
    co_await filler;
    // The turn passed on: an admit now gets in at once.
    auto last = [&ran] { ran.fetch_add(1); };
    auto r = co_await weft::timeout(10s, db.admit(std::move(last)));
    EXPECT_TRUE(r.has_value());
    if (r) co_await *r;
  };
  rt.block_on(body());
  EXPECT_EQ(ran.load(), 2);   // the filler and the last admit
}

TEST(Pool, AWaiterCancelledAfterItsJobWasSubmittedAbortsThatJob) {
  // Current-thread flavor: the granted waiter cannot resume while the test
  // task runs, so the window between submit and resume is held open.
  auto rt = runtime::builder::current_thread().blocking_pool("db", {.max_threads = 1, .queue_capacity = 1}).build();
  gate first, second;
  std::atomic<bool> ran{false};
  std::atomic<int> live{0};
  auto body = [&]() -> task<void> {
    auto db = weft::handle::current().pool("db");
    auto a = db.spawn([&first] { first.pass(); });
    while (first.arrived.load() == 0) co_await weft::yield_now();
    auto b = db.spawn([&second] { second.pass(); });   // queued: the queue is full
    auto waiter = weft::spawn(
        [](weft::blocking_pool pool, std::atomic<bool>& r, lifetime_probe p) -> task<weft::join_handle<void>> {
          auto job = [&r, p] { r = true; };
          co_return co_await pool.admit(std::move(job));
        }(db, ran, lifetime_probe(live)));
    while (db.metrics().admit_waiters == 0) co_await weft::yield_now();
    first.open.count_down();   // the thread takes b, the waiter's job gets b's slot
    EXPECT_TRUE(eventually([&] { return db.metrics().admit_waiters == 0 && second.arrived.load() == 1; }));
    EXPECT_EQ(db.metrics().queue_depth, 1u);   // submitted, the waiter not yet resumed
    waiter.abort();
    auto r = co_await waiter.join();
    EXPECT_TRUE(!r && r.error().is_cancelled());
    EXPECT_EQ(db.metrics().queue_depth, 0u);   // its job was aborted and left the queue
    EXPECT_EQ(live.load(), 0);
    second.open.count_down();
    co_await a;
    co_await b;
  };
  rt.block_on(body());
  EXPECT_FALSE(ran.load());
}

TEST(Pool, AJobQueuedLongerThanMaxQueueWaitIsRejectedThen) {
  auto rt = with_pool("db", {.max_threads = 1, .max_queue_wait = 20ms});
  gate g;
  std::atomic<int> live{0};
  std::atomic<bool> ran{false};
  auto body = [&]() -> task<void> {
    auto db = weft::handle::current().pool("db");
    auto running = db.spawn([&g] { g.pass(); });
    while (g.arrived.load() == 0) co_await weft::yield_now();
    auto queued = db.spawn([&ran, p = lifetime_probe(live)] { ran = true; });
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(co_await weft::test::finishes(&queued));   // while the thread is still busy
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 15ms);
    EXPECT_EQ(live.load(), 0);   // captures destroyed
    auto r = co_await queued.join();
    EXPECT_TRUE(!r && r.error().is_rejected());
    if (!r) {
      const std::string what = r.error().what();
      EXPECT_NE(what.find("rejected by pool \"db\": waited longer than max_queue_wait"), std::string::npos) << what;
    }
    EXPECT_EQ(db.metrics().rejected, 1u);
    EXPECT_EQ(db.metrics().queue_depth, 0u);
    g.open.count_down();
    co_await running;
  };
  rt.block_on(body());
  EXPECT_FALSE(ran.load());
}

// -- metrics -----------------------------------------------------------------------------------

TEST(Pool, RuntimeMetricsListEveryPoolSortedByName) {
  auto rt =
      runtime::builder::multi_thread().worker_threads(1).blocking_pool("zeta", {}).blocking_pool("db", {}).build();
  const auto m = rt.metrics();
  std::vector<std::string> names;
  for (const auto& p : m.pools) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"blocking", "compute", "db", "zeta"}));
  for (const auto& p : m.pools) {
    if (p.name == "compute") {
      EXPECT_EQ(p.threads, 0u);   // before first use
    }
  }
}

TEST(Pool, PoolMetricsCountAndTime) {
  auto rt = with_pool("db", {.max_threads = 2});
  auto body = [&]() -> task<void> {
    auto db = weft::handle::current().pool("db");
    for (int i = 0; i < 5; ++i) {
      auto h = db.spawn([] { std::this_thread::sleep_for(2ms); });
      co_await h;
    }
  };
  rt.block_on(body());
  const weft::pool_metrics m = rt.pool("db").metrics();
  EXPECT_EQ(m.name, "db");
  EXPECT_EQ(m.completed, 5u);
  EXPECT_EQ(m.rejected, 0u);
  EXPECT_EQ(m.queue_depth, 0u);
  EXPECT_EQ(m.admit_waiters, 0u);
  EXPECT_GE(m.started_threads, 1u);
  EXPECT_EQ(m.run_time.count, 5u);
  EXPECT_GE(m.run_time.percentile(0.5), 2ms);
  EXPECT_EQ(m.queue_wait.count, 5u);
  // The default pool is untouched.
  EXPECT_EQ(rt.pool("blocking").metrics().completed, 0u);
}

// -- compute -----------------------------------------------------------------------------------

TEST(Compute, UsesExactlyComputeThreadsStartedOnFirstUse) {
  auto rt = runtime::builder::multi_thread().worker_threads(2).compute_threads(3).build();
  EXPECT_EQ(rt.pool("compute").metrics().threads, 0u);
  std::mutex mutex;
  std::set<std::thread::id> ids;
  std::set<std::string> names;
  auto body = [&]() -> task<void> {
    std::vector<weft::join_handle<void>> hs;
    for (int i = 0; i < 30; ++i) {
      hs.push_back(weft::spawn_compute([&] {
        std::this_thread::sleep_for(1ms);
        std::lock_guard lock(mutex);
        ids.insert(std::this_thread::get_id());
        names.insert(thread_name());
      }));
    }
    for (auto& h : hs) co_await h;
  };
  rt.block_on(body());
  EXPECT_LE(ids.size(), 3u);
  EXPECT_EQ(names, std::set<std::string>{"weft-c"});
  EXPECT_EQ(rt.pool("compute").metrics().threads, 3u);   // all of them, and kept
  EXPECT_EQ(rt.pool("compute").metrics().completed, 30u);
}

TEST(Compute, TheFirstJobStartsEveryComputeThread) {
  auto rt = runtime::builder::multi_thread().worker_threads(1).compute_threads(2).build();
  EXPECT_EQ(rt.metrics().pools[1].threads, 0u);   // "compute", before first use
  auto body = []() -> task<int> {
    auto h = weft::spawn_compute([] { return 6; });
    co_return co_await h;
  };
  EXPECT_EQ(rt.block_on(body()), 6);
  EXPECT_TRUE(eventually([&] { return rt.pool("compute").metrics().started_threads == 2; }));
  EXPECT_EQ(rt.pool("compute").metrics().threads, 2u);
}

TEST(Compute, ParallelForVisitsEveryIndexOnce) {
  auto rt = runtime::builder::multi_thread().worker_threads(2).compute_threads(2).build();
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{100'003}}) {
    std::vector<std::atomic<int>> seen(n);
    rt.block_on([](std::vector<std::atomic<int>>& s) -> task<void> {
      co_await weft::parallel_for(s.size(), [&s](std::size_t i) { s[i].fetch_add(1); });
    }(seen));
    std::size_t wrong = 0;
    for (auto& x : seen) wrong += x.load() != 1;
    EXPECT_EQ(wrong, 0u) << "n = " << n;
  }
}

TEST(Compute, ParallelForRethrowsTheFirstExceptionAfterEveryChunkStopped) {
  auto rt = runtime::builder::multi_thread().worker_threads(2).compute_threads(2).build();
  std::atomic<int> running{0};
  std::atomic<int> max_after_throw{0};
  auto body = [&]() -> task<bool> {
    try {
      co_await weft::parallel_for(10'000, [&](std::size_t i) {
        running.fetch_add(1);
        if (i == 10) {
          running.fetch_sub(1);
          throw std::runtime_error("bad index");
        }
        std::this_thread::sleep_for(10us);
        running.fetch_sub(1);
      });
    } catch (const std::runtime_error& e) {
      max_after_throw = running.load();   // every chunk has stopped
      co_return std::string(e.what()) == "bad index";
    }
    co_return false;
  };
  EXPECT_TRUE(rt.block_on(body()));
  EXPECT_EQ(max_after_throw.load(), 0);
}

// -- spawn_thread --------------------------------------------------------------------------------

TEST(SpawnThread, RunsOnANamedThreadInTheRuntimesContextWithHooks) {
  std::atomic<int> starts{0}, stops{0};
  std::mutex mutex;
  std::set<std::string> started_names;
  std::string name;
  bool has_runtime = false;
  {
    auto rt = runtime::builder::multi_thread()
                  .worker_threads(1)
                  .on_thread_start([&] {
                    starts.fetch_add(1);
                    std::lock_guard lock(mutex);
                    started_names.insert(thread_name());
                  })
                  .on_thread_stop([&] { stops.fetch_add(1); })
                  .build();
    auto body = [&]() -> task<int> {
      auto h = weft::spawn_thread("ingest-loop", [&] {
        name = thread_name();
        has_runtime = weft::handle::try_current().has_value();
        return 4;
      });
      co_return co_await h;
    };
    EXPECT_EQ(rt.block_on(body()), 4);
    for (const auto& p : rt.metrics().pools) EXPECT_EQ(p.completed, 0u) << p.name;   // in no pool
  }
  EXPECT_EQ(name, "ingest-loop");
  EXPECT_EQ(started_names.count("ingest-loop"), 1u);   // on_thread_start ran on it
  EXPECT_TRUE(has_runtime);
  EXPECT_EQ(starts.load(), stops.load());
}

TEST(SpawnThread, AStopAwareThreadIsStoppedAndJoinedByShutdown) {
  // Shutdown often comes before the new thread has taken its closure: the
  // closure still runs, with stop already requested (it was never "queued").
  for (int round = 0; round < 200; ++round) {
    std::atomic<bool> stopped{false};
    weft::join_handle<int> h;
    {
      auto rt = runtime::builder::multi_thread().worker_threads(1).build();
      rt.block_on([](weft::join_handle<int>& out, std::atomic<bool>& s) -> task<void> {
        out = weft::spawn_thread("forever", [&s](std::stop_token st) {
          while (!st.stop_requested()) std::this_thread::sleep_for(1ms);
          s = true;
          return 9;
        });
        co_return;
      }(h, stopped));
    }   // the destructor requests stop and joins it
    ASSERT_TRUE(stopped.load()) << "round " << round;
    auto r = h.wait();
    ASSERT_TRUE(r.has_value()) << "round " << round;
    EXPECT_EQ(*r, 9);
  }
}

TEST(SpawnThread, ShutdownTimeoutCountsAThreadStillRunning) {
  auto rt = runtime::builder::multi_thread().worker_threads(1).build();
  auto release = std::make_shared<std::atomic<bool>>(false);
  auto entered = std::make_shared<std::atomic<bool>>(false);
  rt.block_on([](std::shared_ptr<std::atomic<bool>> rel, std::shared_ptr<std::atomic<bool>> in) -> task<void> {
    auto h = weft::spawn_thread("stubborn", [rel, in] {
      in->store(true);
      while (!rel->load()) std::this_thread::sleep_for(1ms);
    });
    while (!in->load()) co_await weft::yield_now();
  }(release, entered));
  const auto report = rt.shutdown_timeout(20ms);
  EXPECT_EQ(report.blocking_still_running, 1u);
  release->store(true);
}

TEST(SpawnThread, AfterShutdownYieldsCancelled) {
  auto rt = runtime::builder::multi_thread().worker_threads(1).build();
  auto h = rt.get_handle();
  rt.shutdown_timeout(1s);
  // Not inside the runtime any more: use the handle's pools directly.
  auto job = h.pool("blocking").spawn([] { return 1; });
  auto r = job.wait();
  EXPECT_TRUE(!r && r.error().is_cancelled());
}

}  // namespace

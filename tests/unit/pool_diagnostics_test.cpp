// SPDX-License-Identifier: MIT
// Diagnostics (DESIGN §6) across the pools of DESIGN §8: stragglers, dump()
// and long-blocking reports cover every named pool, "compute" and
// spawn_thread's threads (pool "thread"); to_prometheus has a series per
// pool, which promtool accepts; the blocking_* histograms are the
// "blocking" pool's.
#include <weft/diagnostics.hpp>
#include <weft/pool.hpp>
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>

#include "promtool.hpp"
#include "weft_task_helpers.hpp"
#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using weft::runtime;
using weft::task;
using clock_type = std::chrono::steady_clock;

struct flags {
  std::atomic<bool> release{false};
  std::atomic<int> entered{0};
};

/// A closure that blocks until released (or the test's safety limit).
auto blocker(std::shared_ptr<flags> f) {
  return [f] {
    f->entered.fetch_add(1);
    const auto deadline = clock_type::now() + weft::test::max_wait;
    while (!f->release.load() && clock_type::now() < deadline) std::this_thread::sleep_for(1ms);
  };
}

TEST(PoolDiagnostics, DumpAndStragglersCoverPoolsAndThreadsLongBlockingReportsOnlyPools) {
  std::mutex mutex;
  std::multiset<std::string> reported;
  runtime rt = runtime::builder::multi_thread()
                   .worker_threads(1)
                   .blocking_pool("db", {.max_threads = 1})
                   .long_blocking_threshold(20ms)
                   .on_long_blocking([&](const weft::long_blocking_report& r) {
                     std::lock_guard lock(mutex);
                     reported.insert(std::string(r.pool));
                   })
                   .build();
  auto f = std::make_shared<flags>();
  rt.block_on([](std::shared_ptr<flags> fl) -> task<void> {
    (void)weft::handle::current().pool("db").spawn(blocker(fl));
    (void)weft::spawn_compute(blocker(fl));
    (void)weft::spawn_thread("stubborn", blocker(fl));
    co_return;
  }(f));
  ASSERT_TRUE(weft::test::eventually([&] { return f->entered.load() == 3; }));

  // dump(): each running, in its pool; spawn_thread's as a dedicated thread.
  ASSERT_TRUE(weft::test::eventually([&] {
    std::set<std::string> running;
    for (const auto& t : rt.dump()) {
      if (t.state != weft::task_state::running) continue;
      if (t.pool == "thread" && t.kind != weft::task_kind::dedicated_thread) continue;
      if (t.pool != "thread" && t.kind != weft::task_kind::blocking_job) continue;
      running.insert(std::string(t.pool));
    }
    return running == std::set<std::string>{"compute", "db", "thread"};
  }));

  // Long-blocking reports: once each, from every pool; never for
  // spawn_thread, whose work is meant to run long (DESIGN §8).
  ASSERT_TRUE(weft::test::eventually([&] {
    std::lock_guard lock(mutex);
    return reported.size() >= 2;
  }));
  std::this_thread::sleep_for(100ms);   // 5 thresholds: the thread's report would have come
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(reported, (std::multiset<std::string>{"compute", "db"}));
  }
  EXPECT_EQ(rt.metrics().long_blocking_jobs, 2u);

  const weft::shutdown_report report = rt.shutdown_timeout(30ms);
  f->release.store(true);
  EXPECT_EQ(report.blocking_still_running, 3u);
  std::multiset<std::string> pools;
  for (const auto& s : report.stragglers) pools.insert(s.pool);
  EXPECT_EQ(pools, (std::multiset<std::string>{"compute", "db", "thread"}));
}

TEST(PoolDiagnostics, BlockingHistogramsAreTheBlockingPoolsAndEachPoolHasItsOwn) {
  runtime rt = runtime::builder::multi_thread().worker_threads(1).blocking_pool("db", {.max_threads = 1}).build();
  rt.block_on([]() -> task<void> {
    for (int i = 0; i < 3; ++i) co_await weft::spawn_blocking([] { std::this_thread::sleep_for(1ms); });
    for (int i = 0; i < 2; ++i) co_await weft::handle::current().pool("db").spawn([] {});
    co_await weft::spawn_compute([] {});
  }());
  const weft::runtime_metrics m = rt.metrics();
  const auto pool = [&](std::string_view name) {
    const auto it = std::find_if(m.pools.begin(), m.pools.end(), [&](const auto& p) { return p.name == name; });
    EXPECT_NE(it, m.pools.end()) << name;
    return it == m.pools.end() ? weft::pool_metrics{} : *it;
  };
  EXPECT_EQ(m.blocking_queue_wait.count, 3u);
  EXPECT_EQ(m.blocking_run_time.count, 3u);
  EXPECT_EQ(pool("blocking").queue_wait.count, 3u);
  EXPECT_EQ(pool("blocking").run_time.count, 3u);
  EXPECT_EQ(pool("blocking").run_time.sum, m.blocking_run_time.sum);
  EXPECT_GE(m.blocking_run_time.sum, 3ms);
  EXPECT_EQ(pool("db").run_time.count, 2u);
  EXPECT_EQ(pool("db").queue_wait.count, 2u);
  EXPECT_EQ(pool("db").completed, 2u);
  EXPECT_EQ(pool("compute").run_time.count, 1u);
}

std::string metrics_text_with_every_pool() {
  runtime rt = runtime::builder::multi_thread()
                   .worker_threads(1)
                   .blocking_pool("db", {.max_threads = 1, .queue_capacity = 1})
                   .build();
  rt.block_on([]() -> task<void> {
    auto db = weft::handle::current().pool("db");
    auto gate = std::make_shared<std::atomic<bool>>(false);
    auto running = db.spawn([gate] {
      while (!gate->load()) std::this_thread::sleep_for(1ms);
    });
    while (db.metrics().threads == 0 || db.metrics().queue_depth != 0) co_await weft::yield_now();
    auto queued = db.spawn([] {});
    auto refused = db.spawn([] {});   // queue full: rejected
    gate->store(true);
    co_await running;
    co_await queued;
    EXPECT_FALSE((co_await refused.join()).has_value());
    co_await weft::spawn_compute([] {});
    co_await weft::spawn_blocking([] {});
  }());
  return weft::to_prometheus(rt.metrics());
}

TEST(PoolDiagnostics, PrometheusHasASeriesPerPool) {
  const std::string text = metrics_text_with_every_pool();
  for (const char* pool : {"blocking", "compute", "db"}) {
    const std::string label = std::string("{pool=\"") + pool + "\"}";
    EXPECT_NE(text.find("weft_pool_threads" + label), std::string::npos) << pool << "\n" << text;
    EXPECT_NE(text.find("weft_pool_queue_depth" + label + " 0\n"), std::string::npos) << pool;
    EXPECT_NE(text.find("weft_pool_rejected_total" + label), std::string::npos) << pool;
    EXPECT_NE(text.find("weft_pool_queue_wait_seconds_count" + label), std::string::npos) << pool;
    EXPECT_NE(text.find("weft_pool_run_time_seconds_sum" + label), std::string::npos) << pool;
  }
  EXPECT_NE(text.find("weft_pool_rejected_total{pool=\"db\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("weft_pool_run_time_seconds_count{pool=\"db\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("weft_pool_run_time_seconds_bucket{pool=\"compute\",le=\"+Inf\"} 1\n"), std::string::npos);
  // One # TYPE per family, however many pools.
  std::size_t types = 0;
  for (std::size_t at = 0; (at = text.find("# TYPE weft_pool_threads ", at)) != std::string::npos; ++at) ++types;
  EXPECT_EQ(types, 1u);
}

TEST(PoolDiagnostics, PromtoolAcceptsThePerPoolSeries) {
  const auto verdict = weft::test::promtool_check_metrics(metrics_text_with_every_pool());
  if (!verdict) GTEST_SKIP() << weft::test::promtool_missing;
  EXPECT_TRUE(verdict->passed) << verdict->output;
  EXPECT_TRUE(verdict->output.empty()) << "promtool warned:\n" << verdict->output;
}

TEST(PoolDiagnostics, APoolNameIsEscapedInItsLabel) {
  weft::runtime_metrics m;
  weft::pool_metrics p;
  p.name = "a\"b\\c";
  m.pools.push_back(p);
  const std::string text = weft::to_prometheus(m);
  EXPECT_NE(text.find("weft_pool_threads{pool=\"a\\\"b\\\\c\"} 0\n"), std::string::npos) << text;
}

}  // namespace

// SPDX-License-Identifier: MIT
// Why named pools: a slow "database" (4 connections, each call 50 ms) and
// fast file reads, under a flood of database calls.
//
// With one shared pool the file reads queue behind the database calls; with
// a "database" pool and a "files" pool they do not. Prints a latency table
// for each setup.
//
//   pools [db_clients] (default 16: 16 tasks calling a 4-connection database)
#include <weft/pool.hpp>
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// A blocking database call: 50 ms on one of 4 connections.
int query_database(int id) {
  std::this_thread::sleep_for(50ms);
  return id;
}

/// A blocking file read: small and quick.
std::size_t read_file() {
  std::ifstream in("/proc/self/status");
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::this_thread::sleep_for(1ms);   // a cold disk
  return text.size();
}

struct latencies {
  std::vector<double> db_ms, file_ms;
};

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

/// Keeps `db` flooded — `db_clients` tasks each calling the database in a
/// loop — while 20 files are read through `files`, one every 10 ms.
weft::task<latencies> flood(weft::blocking_pool db, weft::blocking_pool files, int db_clients) {
  auto stop = std::make_shared<std::atomic<bool>>(false);
  std::vector<weft::join_handle<std::vector<double>>> clients;
  for (int i = 0; i < db_clients; ++i) {
    clients.push_back(weft::spawn([](weft::blocking_pool pool, int id,
                                     std::shared_ptr<std::atomic<bool>> done) -> weft::task<std::vector<double>> {
      std::vector<double> ms;
      while (!done->load()) {
        const auto t0 = clock_type::now();
        auto h = pool.spawn([id] { return query_database(id); });
        co_await h;
        ms.push_back(ms_since(t0));
      }
      co_return ms;
    }(db, i, stop)));
  }
  co_await weft::sleep(100ms);   // the flood is on
  latencies out;
  for (int i = 0; i < 20; ++i) {
    const auto t0 = clock_type::now();
    auto h = files.spawn([] { return read_file(); });
    co_await h;
    out.file_ms.push_back(ms_since(t0));
    co_await weft::sleep(10ms);
  }
  stop->store(true);
  for (auto& c : clients) {
    std::vector<double> ms = co_await c;
    out.db_ms.insert(out.db_ms.end(), ms.begin(), ms.end());
  }
  co_return out;
}

void print_table(const char* title, const latencies& l) {
  std::printf("%s\n", title);
  std::printf("  %-14s %6s %9s %9s %9s\n", "call", "count", "p50 ms", "p99 ms", "max ms");
  std::printf("  %-14s %6zu %9.1f %9.1f %9.1f\n", "database", l.db_ms.size(), percentile(l.db_ms, 0.5),
              percentile(l.db_ms, 0.99), percentile(l.db_ms, 1.0));
  std::printf("  %-14s %6zu %9.1f %9.1f %9.1f\n", "file read", l.file_ms.size(), percentile(l.file_ms, 0.5),
              percentile(l.file_ms, 0.99), percentile(l.file_ms, 1.0));
}

}  // namespace

int main(int argc, char** argv) {
  const int db_clients = argc > 1 ? std::atoi(argv[1]) : 16;

  // 1. One shared pool of 4 threads for everything.
  latencies shared;
  {
    auto rt =
        weft::runtime::builder::multi_thread().worker_threads(2).blocking_pool("shared", {.max_threads = 4}).build();
    shared = rt.block_on(flood(rt.pool("shared"), rt.pool("shared"), db_clients));
  }
  // 2. A pool per resource: the database keeps its 4 connections, file reads
  //    have threads of their own.
  latencies split;
  {
    auto rt = weft::runtime::builder::multi_thread()
                  .worker_threads(2)
                  .blocking_pool("database", {.max_threads = 4})
                  .blocking_pool("files", {.max_threads = 4})
                  .build();
    split = rt.block_on(flood(rt.pool("database"), rt.pool("files"), db_clients));
  }
  std::printf("%d tasks keep calling the database (50 ms a call, 4 threads); 20 file reads meanwhile\n\n", db_clients);
  print_table("one shared pool (4 threads):", shared);
  std::printf("\n");
  print_table("two pools (\"database\": 4 threads, \"files\": 4 threads):", split);
  const double gain = percentile(shared.file_ms, 0.5) / std::max(0.001, percentile(split.file_ms, 0.5));
  std::printf("\nfile reads p50: %.0fx faster with two pools\n", gain);
  return 0;
}

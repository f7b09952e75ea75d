// SPDX-License-Identifier: MIT
// weft's implementation of the workloads in bench/README.md, written to
// mirror the Tokio and Asio programs in bench/peers/ line for line: same N,
// same settings (2 workers, 512 blocking threads, 10 s keep-alive, a fresh
// runtime per workload), same JSON fields, nearest-rank percentiles.
//
// One JSON object per workload on stdout and nothing else; diagnostics go to
// stderr.
//
//   weft-bench [--quick] [--diagnostics on|off] [bench ...]
//   (--quick divides each N by 10; --diagnostics off turns the stall
//   detector and long-blocking reports off, to measure what they cost:
//   bench/diagnostics_cost.sh)
//
// Three weft-only workloads, run only when named: pool_admission and
// parallel_for (issue 12; bench/README.md, "Pools"), and pool_start (how soon
// a burst on a fresh pool gets its threads; bench/README.md, "Pool start").
#include <weft/net.hpp>
#include <weft/pool.hpp>
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#if WEFT_BENCH_HAVE_TBB && defined(__GLIBCXX__)   // libstdc++'s parallel algorithms run on TBB
#include <execution>
#endif

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t workers = 2;
constexpr int load_closures = 256;
constexpr auto load_sleep = 50ms;

constexpr std::array<std::string_view, 11> bench_names = {
    "blocking_throughput",
    "blocking_roundtrip",
    "spawn_throughput",
    "timer_idle",
    "timer_under_blocking_load",
    "echo_under_blocking_load",
    "burst_reuse",
    "shutdown_bounded",
    "pool_admission",
    "parallel_for",
    "pool_start",
};

// --diagnostics: the stall detector and long-blocking reports at their
// defaults (on), or both thresholds 0 (off).
bool diagnostics_on = true;

/// A fresh multi-thread runtime with bench/README.md's common settings.
weft::runtime build_runtime() {
  auto b =
      weft::runtime::builder::multi_thread().worker_threads(workers).max_blocking_threads(512).thread_keep_alive(10s);
  if (!diagnostics_on) b.stall_threshold(0ns).long_blocking_threshold(0ns);
  return b.build();
}

double us(clock_type::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

/// Nearest-rank percentile of an ascending-sorted vector (as the reference programs in bench/peers).
double pct(const std::vector<double>& sorted, double p) {
  const std::size_t n = sorted.size();
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
  rank = std::clamp<std::size_t>(rank, 1, n);
  return sorted[rank - 1];
}

std::vector<double> sorted(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v;
}

void emit(std::string_view bench, const std::string& fields) {
  fmt::print("{{\"bench\":\"{}\",\"impl\":\"weft\",{}}}\n", bench, fields);
  std::fflush(stdout);
}

[[noreturn]] void fail(const std::string& msg) {
  fmt::print(stderr, "weft-bench: FAILED: {}\n", msg);
  std::exit(1);
}

// ---------------------------------------------------------------------------
// Blocking-pool saturation load: LOAD_CLOSURES closures, each sleeping 50 ms,
// kept in flight; a fresh one is spawned each time one finishes, until
// stopped. As in the Asio anchor, each of 256 loader tasks keeps one closure
// in flight (`spawn_blocking(sleep); co_await`), so no channel is needed.

struct load_state {
  std::atomic<bool> stop{false};
  std::atomic<int> started{0};
  std::atomic<std::uint64_t> completed{0};
};

struct load {
  std::shared_ptr<load_state> state;
  std::vector<weft::join_handle<void>> loaders;
};

weft::task<void> loader(std::shared_ptr<load_state> s) {
  while (!s->stop.load(std::memory_order_acquire)) {
    auto h = weft::spawn_blocking([s] {
      s->started.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(load_sleep);
      s->completed.fetch_add(1, std::memory_order_relaxed);
    });
    co_await h;
  }
}

/// Must run inside the runtime. Returns once all LOAD_CLOSURES closures have
/// started running (pool saturated).
weft::task<load> start_load() {
  load l{std::make_shared<load_state>(), {}};
  l.loaders.reserve(load_closures);
  for (int i = 0; i < load_closures; ++i) l.loaders.push_back(weft::spawn(loader(l.state)));
  while (l.state->started.load(std::memory_order_relaxed) < load_closures) co_await weft::sleep(1ms);
  co_return l;
}

/// Stops respawning and waits until every in-flight closure has finished.
/// Gives how many load closures ran.
weft::task<std::uint64_t> stop_load(load l) {
  l.state->stop.store(true, std::memory_order_release);
  for (auto& h : l.loaders) co_await h;
  co_return l.state->completed.load();
}

// ---------------------------------------------------------------------------

struct timed_sum {
  double seconds;
  std::uint64_t sum;
};

weft::task<timed_sum> blocking_throughput_task(std::size_t n) {
  const auto t0 = clock_type::now();
  std::vector<weft::join_handle<std::uint64_t>> handles;
  handles.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) handles.push_back(weft::spawn_blocking([i] { return i; }));
  std::uint64_t sum = 0;
  for (auto& h : handles) sum += co_await h;
  co_return timed_sum{std::chrono::duration<double>(clock_type::now() - t0).count(), sum};
}

void check_sum(std::string_view bench, std::uint64_t n, std::uint64_t sum) {
  const std::uint64_t expect = n * (n - 1) / 2;
  if (sum != expect) fail(fmt::format("{} sum {} != {}", bench, sum, expect));
}

/// Runs a throughput task on a fresh runtime, checks its sum, emits ops/s.
void run_throughput(std::string_view bench, std::size_t n, weft::task<timed_sum> (*make)(std::size_t)) {
  timed_sum r{};
  {
    weft::runtime rt = build_runtime();
    r = rt.block_on(make(n));
  }
  check_sum(bench, n, r.sum);
  emit(bench, fmt::format("\"ops_per_s\":{:.1f}", static_cast<double>(n) / r.seconds));
}

void blocking_throughput(std::size_t n) { run_throughput("blocking_throughput", n, blocking_throughput_task); }

weft::task<std::vector<double>> blocking_roundtrip_task(std::size_t n) {
  std::vector<double> lat;
  lat.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto t0 = clock_type::now();
    auto h = weft::spawn_blocking([i] { return i; });
    const std::uint64_t r = co_await h;
    lat.push_back(us(clock_type::now() - t0));
    if (r != i) fail("blocking_roundtrip: wrong result");
  }
  co_return lat;
}

void blocking_roundtrip(std::size_t n) {
  std::vector<double> lat;
  {
    weft::runtime rt = build_runtime();
    lat = rt.block_on(blocking_roundtrip_task(n));
  }
  double total = 0;
  for (double v : lat) total += v;
  const double mean = total / static_cast<double>(lat.size());
  const auto s = sorted(std::move(lat));
  emit("blocking_roundtrip",
       fmt::format("\"p50_us\":{:.3f},\"p99_us\":{:.3f},\"mean_us\":{:.3f}", pct(s, 50), pct(s, 99), mean));
}

weft::task<std::uint64_t> return_index(std::uint64_t i) { co_return i; }

weft::task<timed_sum> spawn_throughput_task(std::size_t n) {
  const auto t0 = clock_type::now();
  std::vector<weft::join_handle<std::uint64_t>> handles;
  handles.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) handles.push_back(weft::spawn(return_index(i)));
  std::uint64_t sum = 0;
  for (auto& h : handles) sum += co_await h;
  co_return timed_sum{std::chrono::duration<double>(clock_type::now() - t0).count(), sum};
}

void spawn_throughput(std::size_t n) { run_throughput("spawn_throughput", n, spawn_throughput_task); }

weft::task<std::vector<double>> timer_lateness(std::size_t n) {
  constexpr auto period = 1ms;
  std::vector<double> late;
  late.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto t0 = clock_type::now();
    co_await weft::sleep(period);
    late.push_back(us(clock_type::now() - t0) - us(period));
  }
  co_return late;
}

void emit_timer(std::string_view bench, std::vector<double> late) {
  const auto s = sorted(std::move(late));
  emit(bench, fmt::format("\"p50_us\":{:.3f},\"p99_us\":{:.3f},\"max_us\":{:.3f}", pct(s, 50), pct(s, 99), s.back()));
}

void timer_idle(std::size_t n) {
  std::vector<double> late;
  {
    weft::runtime rt = build_runtime();
    late = rt.block_on(timer_lateness(n));
  }
  emit_timer("timer_idle", std::move(late));
}

struct late_and_closures {
  std::vector<double> late;
  std::uint64_t closures;
};

weft::task<late_and_closures> timer_under_blocking_load_task(std::size_t n) {
  load l = co_await start_load();
  std::vector<double> late = co_await timer_lateness(n);
  const std::uint64_t closures = co_await stop_load(std::move(l));
  co_return late_and_closures{std::move(late), closures};
}

void timer_under_blocking_load(std::size_t n) {
  late_and_closures r;
  {
    weft::runtime rt = build_runtime();
    r = rt.block_on(timer_under_blocking_load_task(n));
  }
  fmt::print(stderr, "timer_under_blocking_load: {} load closures run\n", r.closures);
  emit_timer("timer_under_blocking_load", std::move(r.late));
}

// -- echo_under_blocking_load ------------------------------------------------

constexpr std::size_t echo_message = 64;

weft::task<void> echo_connection(weft::net::tcp_stream sock) {
  std::array<std::byte, 4096> buf;
  try {
    for (;;) {
      const std::size_t k = co_await sock.read(buf);
      if (k == 0) co_return;
      co_await sock.write_all(std::span<const std::byte>(buf.data(), k));
    }
  } catch (const std::exception&) {
    co_return;   // the client went away
  }
}

weft::task<void> accept_loop(weft::net::tcp_listener listener) {
  for (;;) {
    auto [sock, peer] = co_await listener.accept();
    sock.set_nodelay(true);
    auto h = weft::spawn(echo_connection(std::move(sock)));   // detached
  }
}

struct echo_setup {
  std::uint16_t port;
  load l;
};

weft::task<echo_setup> echo_server_start() {
  auto listener = weft::net::tcp_listener::bind(weft::net::endpoint::parse("127.0.0.1:0"));
  const std::uint16_t port = listener.local_endpoint().port();
  auto server = weft::spawn(accept_loop(std::move(listener)));   // detached: cancelled at shutdown
  load l = co_await start_load();
  co_return echo_setup{port, std::move(l)};
}

std::vector<double> echo_client(std::uint16_t port, std::size_t n) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fail("client socket");
  int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) fail("nodelay");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) fail("connect");
  std::array<unsigned char, echo_message> out{};
  std::array<unsigned char, echo_message> in{};
  std::vector<double> lat;
  lat.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.fill(static_cast<unsigned char>(i % 251));
    const auto t0 = clock_type::now();
    for (std::size_t off = 0; off < out.size();) {   // write_all
      const ssize_t w = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
      if (w <= 0) fail("client write");
      off += static_cast<std::size_t>(w);
    }
    for (std::size_t off = 0; off < in.size();) {   // read_exact
      const ssize_t r = ::recv(fd, in.data() + off, in.size() - off, 0);
      if (r <= 0) fail("client read");
      off += static_cast<std::size_t>(r);
    }
    lat.push_back(us(clock_type::now() - t0));
    if (in != out) fail(fmt::format("echo mismatch at message {}", i));
  }
  ::close(fd);
  return lat;
}

void echo_under_blocking_load(std::size_t n) {
  std::vector<double> lat;
  std::uint64_t closures = 0;
  {
    weft::runtime rt = build_runtime();
    echo_setup setup = rt.block_on(echo_server_start());
    std::thread client([&lat, port = setup.port, n] { lat = echo_client(port, n); });
    client.join();
    closures = rt.block_on(stop_load(std::move(setup.l)));
  }
  fmt::print(stderr, "echo_under_blocking_load: {} load closures run\n", closures);
  const auto s = sorted(std::move(lat));
  emit("echo_under_blocking_load", fmt::format("\"p50_us\":{:.3f},\"p99_us\":{:.3f}", pct(s, 50), pct(s, 99)));
}

// -- burst_reuse, shutdown_bounded ---------------------------------------------

weft::task<double> burst_task(std::size_t per_burst) {
  constexpr int bursts = 10;
  const auto t0 = clock_type::now();
  std::vector<weft::join_handle<void>> handles;
  handles.reserve(per_burst);
  for (int b = 0; b < bursts; ++b) {
    handles.clear();
    for (std::size_t j = 0; j < per_burst; ++j)
      handles.push_back(weft::spawn_blocking([] { std::this_thread::sleep_for(1ms); }));
    for (auto& h : handles) co_await h;
    if (b + 1 < bursts) co_await weft::sleep(100ms);
  }
  co_return us(clock_type::now() - t0);
}

void burst_reuse(std::size_t per_burst) {
  double wall_us = 0;
  std::uint64_t spawned = 0;
  {
    weft::runtime rt = build_runtime();
    wall_us = rt.block_on(burst_task(per_burst));
    spawned = rt.metrics().blocking_threads_started;
  }
  emit("burst_reuse", fmt::format("\"wall_ms\":{:.3f},\"threads_spawned\":{}", wall_us / 1000.0, spawned));
}

void shutdown_bounded() {
  weft::runtime rt = build_runtime();
  auto started = std::make_shared<std::atomic<bool>>(false);
  {
    auto h = rt.get_handle().spawn_blocking([started] {
      started->store(true);
      started->notify_one();
      std::this_thread::sleep_for(10s);
    });   // detached
  }
  started->wait(false);
  const auto t0 = clock_type::now();
  const weft::shutdown_report report = rt.shutdown_timeout(100ms);
  const double wall_us = us(clock_type::now() - t0);
  fmt::print(stderr, "shutdown_bounded: {} blocking closure(s) left running\n", report.blocking_still_running);
  emit("shutdown_bounded", fmt::format("\"wall_ms\":{:.3f}", wall_us / 1000.0));
}

// ---------------------------------------------------------------------------
// pool_admission (weft only; issue 12): 8 producer tasks admit N jobs into a
// pool with queue_capacity 64 and 4 threads — jobs/s and the admit wait p99 —
// vs the same jobs through spawn_blocking into a 4-thread default pool, whose
// queue is unbounded: its jobs/s and peak queue depth.

constexpr int producers = 8;

/// A short job: about a microsecond of work.
std::uint64_t short_job(std::uint64_t i) {
  std::uint64_t x = i;
  for (int k = 0; k < 200; ++k) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  return x;
}

void pool_admission(std::size_t n) {
  const std::size_t per_producer = n / producers;
  // 1. admit into a bounded pool.
  double admit_jobs_per_s = 0;
  double admit_p99_us = 0;
  std::size_t bounded_peak = 0;
  {
    auto rt = weft::runtime::builder::multi_thread()
                  .worker_threads(workers)
                  .blocking_pool("bounded", {.max_threads = 4, .queue_capacity = 64})
                  .build();
    auto pool = rt.pool("bounded");
    std::vector<std::vector<double>> waits(producers);
    const auto t0 = clock_type::now();
    rt.block_on([](weft::blocking_pool p, std::size_t count, std::vector<std::vector<double>>& w,
                   std::size_t& peak) -> weft::task<void> {
      std::vector<weft::join_handle<void>> ps;
      for (int k = 0; k < producers; ++k) {
        ps.push_back(weft::spawn(
            [](weft::blocking_pool q, std::size_t c, std::vector<double>& out, std::size_t& pk) -> weft::task<void> {
              out.reserve(c);
              std::vector<weft::join_handle<std::uint64_t>> handles;
              handles.reserve(c);
              for (std::size_t i = 0; i < c; ++i) {
                const auto a = clock_type::now();
                auto job = [i] { return short_job(i); };
                handles.push_back(co_await q.admit(std::move(job)));
                out.push_back(us(clock_type::now() - a));
                if ((i & 255) == 0) pk = std::max(pk, q.metrics().queue_depth);
              }
              for (auto& h : handles) co_await h;
            }(p, count, w[static_cast<std::size_t>(k)], peak)));
      }
      for (auto& h : ps) co_await h;
    }(pool, per_producer, waits, bounded_peak));
    admit_jobs_per_s =
        static_cast<double>(per_producer * producers) / std::chrono::duration<double>(clock_type::now() - t0).count();
    std::vector<double> all;
    for (auto& w : waits) all.insert(all.end(), w.begin(), w.end());
    admit_p99_us = pct(sorted(std::move(all)), 99);
  }
  // 2. spawn_blocking into a 4-thread default pool (unbounded queue).
  double spawn_jobs_per_s = 0;
  std::size_t spawn_peak = 0;
  {
    auto rt = weft::runtime::builder::multi_thread().worker_threads(workers).max_blocking_threads(4).build();
    std::atomic<bool> done{false};
    std::atomic<std::size_t> peak{0};
    std::thread sampler([&] {
      while (!done.load(std::memory_order_relaxed)) {
        const std::size_t d = rt.metrics().blocking_queue_depth;
        if (d > peak.load(std::memory_order_relaxed)) peak.store(d, std::memory_order_relaxed);
        std::this_thread::sleep_for(50us);
      }
    });
    const auto t0 = clock_type::now();
    rt.block_on([](std::size_t count) -> weft::task<void> {
      std::vector<weft::join_handle<void>> ps;
      for (int k = 0; k < producers; ++k) {
        ps.push_back(weft::spawn([](std::size_t c) -> weft::task<void> {
          std::vector<weft::join_handle<std::uint64_t>> handles;
          handles.reserve(c);
          for (std::size_t i = 0; i < c; ++i) handles.push_back(weft::spawn_blocking([i] { return short_job(i); }));
          for (auto& h : handles) co_await h;
        }(count)));
      }
      for (auto& h : ps) co_await h;
    }(per_producer));
    spawn_jobs_per_s =
        static_cast<double>(per_producer * producers) / std::chrono::duration<double>(clock_type::now() - t0).count();
    done = true;
    sampler.join();
    spawn_peak = peak.load();
  }
  emit("pool_admission",
       fmt::format("\"jobs_per_s\":{:.1f},\"admit_wait_p99_us\":{:.3f},\"bounded_peak_queue_depth\":{},"
                   "\"spawn_blocking_jobs_per_s\":{:.1f},\"spawn_blocking_peak_queue_depth\":{}",
                   admit_jobs_per_s, admit_p99_us, bounded_peak, spawn_jobs_per_s, spawn_peak));
}

// ---------------------------------------------------------------------------
// parallel_for (weft only; issue 12): a parallel transform-and-sum of N
// doubles, median of 5 runs each: weft::parallel_for on the compute pool vs
// std::for_each(std::execution::par) (libstdc++ on TBB) vs the same chunks
// through spawn_blocking vs one thread.

double transform(double x) { return std::sqrt(x) * 1.0001 + std::sin(x); }

template <class F>
double median_ms(F run) {
  std::vector<double> t;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = clock_type::now();
    run();
    t.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
  }
  return pct(sorted(std::move(t)), 50);
}

void parallel_for_bench(std::size_t n) {
  std::vector<double> data(n);
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<double>(i);
  std::vector<double> out(n);
  double check = 0;
  auto rt = weft::runtime::builder::multi_thread().worker_threads(workers).build();
  const std::size_t cores = std::max(1U, std::thread::hardware_concurrency());
  const double serial_ms = median_ms([&] {
    for (std::size_t i = 0; i < n; ++i) out[i] = transform(data[i]);
  });
  for (double v : out) check += v;
  const auto verify = [&](const char* what) {
    double sum = 0;
    for (double v : out) sum += v;
    if (std::abs(sum - check) > 1e-6 * std::abs(check)) fail(std::string(what) + ": wrong sum");
    std::fill(out.begin(), out.end(), 0.0);
  };
  const double weft_ms = median_ms([&] {
    rt.block_on([](std::vector<double>& in, std::vector<double>& o) -> weft::task<void> {
      co_await weft::parallel_for(in.size(), [&in, &o](std::size_t i) { o[i] = transform(in[i]); });
    }(data, out));
  });
  verify("parallel_for");
  // The same chunks as parallel_for makes (8 per core), each a spawn_blocking job.
  const std::size_t chunks = std::min(n, cores * 8);
  const double blocking_ms = median_ms([&] {
    rt.block_on([](std::vector<double>& in, std::vector<double>& o, std::size_t c) -> weft::task<void> {
      const std::size_t size = (in.size() + c - 1) / c;
      std::vector<weft::join_handle<void>> hs;
      for (std::size_t b = 0; b < in.size(); b += size) {
        const std::size_t e = std::min(in.size(), b + size);
        hs.push_back(weft::spawn_blocking([&in, &o, b, e] {
          for (std::size_t i = b; i < e; ++i) o[i] = transform(in[i]);
        }));
      }
      for (auto& h : hs) co_await h;
    }(data, out, chunks));
  });
  verify("spawn_blocking chunks");
  std::string fields =
      fmt::format("\"n\":{},\"serial_ms\":{:.3f},\"parallel_for_ms\":{:.3f},\"spawn_blocking_chunks_ms\":{:.3f}", n,
                  serial_ms, weft_ms, blocking_ms);
#if WEFT_BENCH_HAVE_TBB && defined(__GLIBCXX__)   // libstdc++'s parallel algorithms run on TBB
  const double par_ms = median_ms([&] {
    std::for_each(std::execution::par, data.begin(), data.end(),
                  [&](const double& x) { out[static_cast<std::size_t>(&x - data.data())] = transform(x); });
  });
  verify("std::execution::par");
  fields += fmt::format(",\"std_par_ms\":{:.3f},\"parallel_for_vs_std_par\":{:.3f}", par_ms, weft_ms / par_ms);
#endif
  fields += fmt::format(",\"parallel_for_vs_spawn_blocking\":{:.3f}", weft_ms / blocking_ms);
  emit("parallel_for", fields);
}

// ---------------------------------------------------------------------------
// pool_start (weft only): DESIGN §4 says no job waits more than 1 ms for a
// thread below the cap. BURST closures that each sleep 20 ms are submitted
// at once, twice per fresh runtime: to its fresh pool (every thread must be
// started: the supervisor starts them one at a time), then, once those are
// done, to the same pool again (its threads idle). Each closure notes when it
// started; RUNS runtimes, medians over them of the first, median and last
// start delay of each burst, and the worst last one.

constexpr std::size_t start_burst = 16;
constexpr auto start_job = 20ms;

struct burst_starts {
  double first_us = 0, median_us = 0, last_us = 0;
};

weft::task<burst_starts> start_burst_once() {
  const auto t0 = clock_type::now();
  std::vector<weft::join_handle<double>> handles;
  handles.reserve(start_burst);
  for (std::size_t i = 0; i < start_burst; ++i) {
    handles.push_back(weft::spawn_blocking([t0] {
      const double delay = us(clock_type::now() - t0);
      std::this_thread::sleep_for(start_job);
      return delay;
    }));
  }
  std::vector<double> delays;
  for (auto& h : handles) delays.push_back(co_await h);
  const auto s = sorted(std::move(delays));
  co_return burst_starts{s.front(), pct(s, 50), s.back()};
}

void pool_start(std::size_t runs) {
  std::vector<burst_starts> fresh, warm;
  std::vector<double> threads;
  for (std::size_t r = 0; r < runs; ++r) {
    auto rt = build_runtime();
    const auto [first, second] = rt.block_on([]() -> weft::task<std::pair<burst_starts, burst_starts>> {
      const burst_starts to_new_threads = co_await start_burst_once();
      const burst_starts to_idle_threads = co_await start_burst_once();
      co_return std::pair{to_new_threads, to_idle_threads};
    }());
    fresh.push_back(first);
    warm.push_back(second);
    threads.push_back(static_cast<double>(rt.metrics().blocking_threads));
  }
  // Over the runtimes: the median of one field, or its largest value.
  const auto over_runs = [](const std::vector<burst_starts>& bursts, double burst_starts::* field, double p) {
    std::vector<double> values;
    for (const burst_starts& b : bursts) values.push_back(b.*field);
    return pct(sorted(std::move(values)), p);
  };
  const auto median = [&](const std::vector<burst_starts>& bursts, double burst_starts::* field) {
    return over_runs(bursts, field, 50);
  };
  emit("pool_start",
       fmt::format("\"burst\":{},\"fresh_first_us\":{:.1f},\"fresh_median_us\":{:.1f},\"fresh_last_us\":{:.1f},"
                   "\"fresh_worst_last_us\":{:.1f},\"warm_first_us\":{:.1f},\"warm_median_us\":{:.1f},"
                   "\"warm_last_us\":{:.1f},\"threads\":{:.0f}",
                   start_burst, median(fresh, &burst_starts::first_us), median(fresh, &burst_starts::median_us),
                   median(fresh, &burst_starts::last_us), over_runs(fresh, &burst_starts::last_us, 100),
                   median(warm, &burst_starts::first_us), median(warm, &burst_starts::median_us),
                   median(warm, &burst_starts::last_us), pct(sorted(threads), 50)));
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::vector<std::string> selected;
  CLI::App app{"weft's implementation of bench/README.md's workloads: one JSON line per workload on stdout"};
  app.add_flag("--quick", quick, "divide each N by 10 (smoke run)");
  std::string diagnostics = "on";
  app.add_option("--diagnostics", diagnostics, "stall detector and long-blocking reports: on (default) or off")
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("bench", selected,
                 "workloads to run (default: all but the weft-only pool_admission, parallel_for and pool_start, in "
                 "this order)")
      ->check(CLI::IsMember(std::vector<std::string>(bench_names.begin(), bench_names.end())));
  CLI11_PARSE(app, argc, argv);

  diagnostics_on = diagnostics == "on";
  const std::size_t div = quick ? 10 : 1;
  // The weft-only workloads (pools, pool start) have no anchor to compare
  // with: they run only when named, so that compare.sh's rounds stay as they were.
  const auto weft_only = [](std::string_view name) {
    return name == "pool_admission" || name == "parallel_for" || name == "pool_start";
  };
  const auto wanted = [&](std::string_view name) {
    if (selected.empty()) return !weft_only(name);
    return std::find(selected.begin(), selected.end(), name) != selected.end();
  };
  try {
    for (const std::string_view name : bench_names) {
      if (!wanted(name)) continue;
      const auto t0 = clock_type::now();
      if (name == "blocking_throughput") blocking_throughput(200'000 / div);
      else if (name == "blocking_roundtrip") blocking_roundtrip(20'000 / div);
      else if (name == "spawn_throughput") spawn_throughput(1'000'000 / div);
      else if (name == "timer_idle") timer_idle(1'000 / div);
      else if (name == "timer_under_blocking_load") timer_under_blocking_load(1'000 / div);
      else if (name == "echo_under_blocking_load") echo_under_blocking_load(10'000 / div);
      else if (name == "burst_reuse") burst_reuse(1'000 / div);
      else if (name == "shutdown_bounded") shutdown_bounded();
      else if (name == "pool_admission") pool_admission(100'000 / div);
      else if (name == "parallel_for") parallel_for_bench(20'000'000 / div);
      else if (name == "pool_start") pool_start(quick ? 3 : 20);
      fmt::print(stderr, "[{}: {:.2f} s]\n", name, std::chrono::duration<double>(clock_type::now() - t0).count());
    }
  } catch (const std::exception& e) {
    fail(e.what());
  }
  return 0;
}

// SPDX-License-Identifier: MIT
// What the blocking pool does for a program, in numbers.
//
// A heartbeat task sleeps 1 ms in a loop and records how late each beat
// wakes up, and a TCP echo server on the runtime answers a client thread
// that times each 64-byte round trip: they stand for everything an async
// runtime must keep polling. Meanwhile a batch of blocking jobs runs:
// each one is a "legacy client" call that waits on a slow synchronous API
// (sleep_for) and then reads and checksums a real file. The batch runs twice:
//
//   1. inline   — the jobs call the blocking API directly on the async
//                 workers (the anti-pattern: it stalls every task on them);
//   2. blocking — the same jobs through weft::spawn_blocking.
//
// and the demo prints a side-by-side table, a histogram of heartbeat
// lateness, and what weft's stall detector (weft/diagnostics.hpp) reported:
// in the inline mode it names the line below that spawned the blocking
// jobs.  demo --help lists the knobs.
#include <weft/diagnostics.hpp>
#include <weft/net.hpp>
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

struct settings {
  int jobs = 64;
  int job_ms = 20;
  std::size_t workers = 2;
  std::string file = "/proc/self/exe";
};

/// The synchronous API we are stuck with: waits like a slow client, then
/// reads and checksums a file (FNV-1a over its first 32 KiB: mostly waiting,
/// a little CPU — many CPU-heavy closures would oversubscribe the cores).
std::uint64_t legacy_call(const settings& s) {
  std::this_thread::sleep_for(std::chrono::milliseconds(s.job_ms));
  std::ifstream in(s.file, std::ios::binary);
  std::vector<char> buffer(32 << 10);
  in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  std::uint64_t hash = 1469598103934665603ull;
  for (std::streamsize i = 0; i < in.gcount(); ++i) {
    hash ^= static_cast<unsigned char>(buffer[static_cast<std::size_t>(i)]);
    hash *= 1099511628211ull;
  }
  return hash;
}

struct run_result {
  std::string mode;
  double total_ms = 0;
  std::vector<double> lateness_us;   // one sample per heartbeat
  std::vector<double> echo_us;       // one sample per echo round trip
  std::uint64_t threads_started = 0;
  std::uint64_t checksum = 0;
  std::uint64_t stalls = 0;          // polls the stall detector reported
  std::string first_stall;           // its first report, as weft's default line
};

/// Keeps what the runtime's stall detector reports (on its watchdog thread).
struct stall_log {
  std::mutex mutex;   // guards first
  std::string first;

  void record(const weft::stall_report& r) {
    std::string_view file = r.spawned_at.file_name();
    file.remove_prefix(std::min(file.size(), file.rfind('/') + 1));
    std::lock_guard lock(mutex);
    if (!first.empty()) return;
    // The line the default handler writes to stderr.
    first = fmt::format(
        "weft: worker {} stuck for {} ms in task {} spawned at {}:{}; move blocking calls into "
        "spawn_blocking",
        r.worker, std::chrono::duration_cast<std::chrono::milliseconds>(r.busy_for).count(), r.task, file,
        r.spawned_at.line());
  }
};

/// Beats until `stop`; records the lateness of the beats that end while
/// `measuring` is set (the batch is running).
weft::task<void> heartbeat(std::shared_ptr<std::atomic<int>> phase, std::shared_ptr<std::vector<double>> out) {
  enum { settling, measuring, stop };
  while (phase->load() != stop) {
    const auto start = clock_type::now();
    co_await weft::sleep(1ms);
    const auto late = clock_type::now() - start - 1ms;
    if (phase->load() == measuring) out->push_back(std::chrono::duration<double, std::micro>(late).count());
  }
}

weft::task<std::uint64_t> inline_job(settings s) { co_return legacy_call(s); }

/// Echoes one connection until the peer closes it.
weft::task<void> echo_server(weft::net::tcp_listener listener) {
  auto [stream, peer] = co_await listener.accept();
  stream.set_nodelay(true);
  std::array<std::byte, 64> buffer;
  for (;;) {
    const std::size_t n = co_await stream.read(buffer);
    if (n == 0) co_return;
    co_await stream.write_all(std::span(buffer.data(), n));
  }
}

/// A plain blocking client on its own thread: sends 64 bytes, waits for
/// them to come back, and records each round trip while `phase` is 1.
void echo_client(std::uint16_t port, const std::atomic<int>& phase, std::vector<double>& out) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::array<char, 64> message{};
  while (phase.load() != 2) {
    const auto start = clock_type::now();
    if (::send(fd, message.data(), message.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(message.size())) break;
    std::size_t got = 0;
    while (got < message.size()) {
      const ssize_t n = ::recv(fd, message.data() + got, message.size() - got, 0);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (phase.load() == 1) out.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - start).count());
    std::this_thread::sleep_for(200us);
  }
  ::close(fd);
}

weft::task<run_result> run_batch(settings s, bool use_pool) {
  auto phase = std::make_shared<std::atomic<int>>(0);
  auto samples = std::make_shared<std::vector<double>>();
  auto beat = weft::spawn(heartbeat(phase, samples));
  auto listener = weft::net::tcp_listener::bind(weft::net::endpoint::parse("127.0.0.1:0"));
  const std::uint16_t port = listener.local_endpoint().port();
  auto server = weft::spawn(echo_server(std::move(listener)));
  std::vector<double> echo_samples;
  std::thread client(echo_client, port, std::cref(*phase), std::ref(echo_samples));
  co_await weft::sleep(20ms);   // let the heartbeat and the echo settle

  phase->store(1);
  const auto start = clock_type::now();
  std::uint64_t checksum = 0;
  if (use_pool) {
    std::vector<weft::join_handle<std::uint64_t>> handles;
    for (int i = 0; i < s.jobs; ++i) handles.push_back(weft::spawn_blocking([s] { return legacy_call(s); }));
    for (auto& h : handles) checksum ^= co_await h;
  } else {
    std::vector<weft::join_handle<std::uint64_t>> handles;
    for (int i = 0; i < s.jobs; ++i) handles.push_back(weft::spawn(inline_job(s)));
    for (auto& h : handles) checksum ^= co_await h;
  }
  const double total_ms = std::chrono::duration<double, std::milli>(clock_type::now() - start).count();

  co_await weft::sleep(2ms);   // the beat that spans the end of the batch lands
  phase->store(2);
  co_await beat;
  client.join();   // closing its socket ends the echo server
  co_await server;
  run_result r;
  r.mode = use_pool ? "spawn_blocking" : "inline (anti-pattern)";
  r.total_ms = total_ms;
  r.lateness_us = std::move(*samples);
  r.echo_us = std::move(echo_samples);
  r.threads_started = weft::handle::current().metrics().blocking_threads_started;
  r.stalls = weft::handle::current().metrics().stalls;
  r.checksum = checksum;
  co_return r;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(rank, v.size() - 1)];
}

std::string format_us(double us) {
  return us < 1000 ? fmt::format("{:.0f} µs", us) : fmt::format("{:.1f} ms", us / 1000);
}

void print_table(const std::vector<run_result>& results, const settings& s) {
  fmt::print("\n{} blocking jobs of {} ms each on {} async workers; heartbeat = sleep(1 ms) in a loop\n\n", s.jobs,
             s.job_ms, s.workers);
  fmt::print("{:<24}{:>9}{:>11}{:>11}{:>14}{:>11}{:>11}{:>10}\n", "mode", "total", "beat p50", "beat max",
             "beats / due", "echo p50", "echo max", "threads");
  for (const auto& r : results) {
    const auto due = static_cast<long>(r.total_ms);   // one beat per millisecond, ideally
    fmt::print("{:<24}{:>9}{:>11}{:>11}{:>14}{:>11}{:>11}{:>10}\n", r.mode, fmt::format("{:.0f} ms", r.total_ms),
               format_us(percentile(r.lateness_us, 50)), format_us(percentile(r.lateness_us, 100)),
               fmt::format("{} / {}", r.lateness_us.size(), due), format_us(percentile(r.echo_us, 50)),
               format_us(percentile(r.echo_us, 100)), r.threads_started);
  }
  fmt::print(
      "(beat: how late a 1 ms sleep woke up; echo: a 64-byte TCP round trip to a server on the\n"
      " runtime; threads: blocking-pool threads started)\n");
  fmt::print("\nweft's stall detector (a poll over 10 ms, reported while it runs, naming the spawn site):\n");
  for (const auto& r : results) {
    fmt::print("  {:<22} {} stall(s){}\n", r.mode, r.stalls, r.first_stall.empty() ? "" : "; the first:");
    if (!r.first_stall.empty()) fmt::print("    {}\n", r.first_stall);
  }
}

void print_histogram(const std::vector<run_result>& results) {
  const double edges_us[] = {100, 500, 1'000, 5'000, 20'000};
  const char* labels[] = {"< 0.1 ms", "< 0.5 ms", "< 1 ms", "< 5 ms", "< 20 ms", ">= 20 ms"};
  fmt::print("\nheartbeat lateness (share of beats)\n");
  for (const auto& r : results) {
    fmt::print("  {}\n", r.mode);
    std::size_t counts[6] = {};
    for (double v : r.lateness_us) {
      std::size_t b = 0;
      while (b < 5 && v >= edges_us[b]) ++b;
      ++counts[b];
    }
    for (std::size_t b = 0; b < 6; ++b) {
      const double share = r.lateness_us.empty() ? 0 : double(counts[b]) / double(r.lateness_us.size());
      fmt::print("    {:>9} |{:<40}| {:5.1f}%\n", labels[b],
                 std::string(static_cast<std::size_t>(share * 40 + 0.5), '#'), share * 100);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{"weft demo: blocking calls inline on async workers vs. weft::spawn_blocking"};
  app.add_option("-j,--jobs", s.jobs, "number of blocking jobs")->check(CLI::Range(1, 100000));
  app.add_option("-m,--job-ms", s.job_ms, "how long each job waits on its slow API, in ms")
      ->check(CLI::Range(0, 10000));
  app.add_option("-w,--workers", s.workers, "async worker threads")->check(CLI::Range(1, 64));
  app.add_option("-f,--file", s.file, "file each job reads and checksums");
  CLI11_PARSE(app, argc, argv);

  std::vector<run_result> results;
  for (bool use_pool : {false, true}) {
    // A fresh runtime per mode, so that thread counts are the mode's own.
    auto stalls = std::make_shared<stall_log>();
    weft::runtime rt = weft::runtime::builder::multi_thread()
                           .worker_threads(s.workers)
                           .on_stall([stalls](const weft::stall_report& r) { stalls->record(r); })
                           .build();
    results.push_back(rt.block_on(run_batch(s, use_pool)));
    std::lock_guard lock(stalls->mutex);
    results.back().first_stall = stalls->first;
  }
  if (results[0].checksum != results[1].checksum) {
    fmt::print(stderr, "checksums differ: the two modes did not do the same work\n");
    return 1;
  }
  print_table(results, s);
  print_histogram(results);
  const double speedup = results[0].total_ms / std::max(results[1].total_ms, 0.001);
  fmt::print(
      "\nspawn_blocking finished the batch {:.1f}x sooner; the heartbeat's worst delay went from {} to {},\n"
      "the slowest echo from {} to {}.\n",
      speedup, format_us(percentile(results[0].lateness_us, 100)), format_us(percentile(results[1].lateness_us, 100)),
      format_us(percentile(results[0].echo_us, 100)), format_us(percentile(results[1].echo_us, 100)));
  fmt::print(
      "Inline, every job holds an async worker for its whole wait, so timers and other tasks stall.\n"
      "On the pool, the workers stay free; what remains is the CPU the jobs themselves need\n"
      "(many CPU-heavy closures at once still oversubscribe the cores: try --file with a big file).\n");
  return 0;
}

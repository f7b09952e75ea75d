// SPDX-License-Identifier: MIT
// Stress for OS integration: signal deliveries racing listeners on two
// runtimes (every listener must see every delivery: no lost wake-up), and
// child processes spawned, captured, killed and dropped from many tasks at
// once (every output right, no zombie, no descriptor leaked), with Unix
// socket echo traffic alongside.
//
// WEFT_STRESS_ITERS scales the work (signal rounds, default 300; children are
// 2x that); WEFT_STRESS_SEED fixes the seed, which every failure prints.
#include <weft/process.hpp>   // first: proves the header is self-contained

#include <weft/net.hpp>
#include <weft/runtime.hpp>
#include <weft/signal.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include "weft_os_helpers.hpp"
#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using weft::task;

std::size_t num_open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

/// Counts its listener's deliveries until stopped.
task<void> count_deliveries(weft::signal_listener listener, std::atomic<std::uint64_t>* seen) {
  for (;;) {
    co_await listener.recv();
    seen->fetch_add(1);
  }
}

TEST(OsStress, EveryListenerSeesEveryDeliveryAcrossRuntimes) {
  const std::uint64_t seed = weft::test::stress_seed();
  const std::uint64_t rounds = weft::test::stress_iterations(300);
  SCOPED_TRACE("WEFT_STRESS_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  struct sigaction ignore_after{};
  ignore_after.sa_handler = SIG_IGN;   // a late delivery after the listeners are gone must not end the test
  struct sigaction saved{};
  ::sigaction(SIGUSR2, &ignore_after, &saved);

  weft::test::signal_sink sink({SIGUSR2});
  constexpr int per_runtime = 6;
  std::vector<std::atomic<std::uint64_t>> seen(2 * per_runtime);
  {
    auto a = weft::runtime::builder::multi_thread().worker_threads(2).build();
    auto b = weft::runtime::builder::current_thread().build();
    std::vector<weft::join_handle<void>> counters;
    for (int i = 0; i < per_runtime; ++i) {
      counters.push_back(a.get_handle().spawn(count_deliveries(weft::signal_listener::on(SIGUSR2), &seen[i])));
      counters.push_back(
          b.get_handle().spawn(count_deliveries(weft::signal_listener::on(SIGUSR2), &seen[per_runtime + i])));
    }
    // The current-thread runtime runs its tasks only inside block_on: keep one going.
    std::atomic<bool> done{false};
    std::thread driver([&] {
      b.block_on([](std::atomic<bool>* d) -> task<void> {
        while (!d->load()) co_await weft::sleep(1ms);
      }(&done));
    });
    for (std::uint64_t r = 1; r <= rounds; ++r) {
      // From this thread or from a fresh one, at random.
      if (rng() % 2) ::kill(::getpid(), SIGUSR2);
      else std::thread([] { ::kill(::getpid(), SIGUSR2); }).join();
      const bool all = weft::test::eventually([&] {
        for (auto& s : seen)
          if (s.load() < r) return false;
        return true;
      });
      ASSERT_TRUE(all) << "round " << r << ": a listener missed a delivery";
      for (auto& s : seen) ASSERT_EQ(s.load(), r) << "one delivery completed two recvs";
    }
    done = true;
    driver.join();
    for (auto& h : counters) h.abort();
  }
  ::sigaction(SIGUSR2, &saved, nullptr);
}

task<bool> one_child(std::uint64_t kind, int id) {
  switch (kind % 4) {
  case 0: {   // captured output
    weft::process::command c("sh");
    c.args({"-c", "echo out" + std::to_string(id) + "; echo err" + std::to_string(id) + " >&2"});
    const auto out = co_await c.output();
    co_return out.status.success() && out.stdout_data == "out" + std::to_string(id) + "\n" &&
        out.stderr_data == "err" + std::to_string(id) + "\n";
  }
  case 1: {   // killed
    weft::process::child c = weft::process::command("sleep").arg("30").spawn();
    c.kill();
    co_return (co_await c.wait()).signal == SIGKILL;
  }
  case 2: {   // dropped unwaited
    weft::process::child c = weft::process::command("true").spawn();
    co_return true;
  }
  default: {   // stdin piped through
    weft::process::command cat("cat");
    cat.set_stdin(weft::process::stdio::piped).set_stdout(weft::process::stdio::piped);
    weft::process::child c = cat.spawn();
    auto in = c.take_stdin();
    auto out = c.take_stdout();
    const std::string message = "message " + std::to_string(id);
    co_await in->write_all(std::as_bytes(std::span(message.data(), message.size())));
    in->shutdown_write();
    std::string got;
    std::array<std::byte, 64> buf;
    for (std::size_t n; (n = co_await out->read(buf)) != 0;) got.append(reinterpret_cast<const char*>(buf.data()), n);
    co_return got == message && (co_await c.wait()).success();
  }
  }
}

task<void> unix_echo_server(std::shared_ptr<weft::net::unix_listener> listener) {
  for (;;) {
    auto [stream, peer] = co_await listener->accept();
    auto h = weft::spawn([](weft::net::unix_stream s) -> task<void> {
      std::array<std::byte, 256> buf;
      for (std::size_t n; (n = co_await s.read(buf)) != 0;) co_await s.write_all(std::span(buf.data(), n));
    }(std::move(stream)));
  }
}

task<bool> unix_client(std::string name, int id) {
  auto s = co_await weft::net::unix_stream::connect(name);
  const std::string message = "unix " + std::to_string(id);
  co_await s.write_all(std::as_bytes(std::span(message.data(), message.size())));
  std::string back(message.size(), '\0');
  co_await s.read_exact(std::as_writable_bytes(std::span(back)));
  co_return back == message;
}

TEST(OsStress, ChildrenAndUnixSocketsFromManyTasks) {
  const std::uint64_t seed = weft::test::stress_seed();
  const std::uint64_t children = 2 * weft::test::stress_iterations(300);
  SCOPED_TRACE("WEFT_STRESS_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::size_t fds_before = num_open_fds();
  {
    auto rt = weft::runtime::builder::multi_thread().worker_threads(3).build();
    const std::string socket_name = "@weft-os-stress-" + std::to_string(::getpid());
    std::vector<std::uint64_t> child_kinds;
    for (std::uint64_t i = 0; i < children; ++i) child_kinds.push_back(rng());
    auto body = [](std::vector<std::uint64_t> kinds, std::string name) -> task<int> {
      auto listener = std::make_shared<weft::net::unix_listener>(weft::net::unix_listener::bind(name));
      auto server = weft::spawn(unix_echo_server(listener));
      std::vector<weft::join_handle<bool>> jobs;
      int id = 0;
      for (const std::uint64_t kind : kinds) {
        jobs.push_back(weft::spawn(one_child(kind, id)));
        jobs.push_back(weft::spawn(unix_client(name, id)));
        ++id;
        if (jobs.size() >= 64) {   // bound the children alive at once
          for (auto& j : jobs)
            if (!co_await j) co_return id;
          jobs.clear();
        }
      }
      for (auto& j : jobs)
        if (!co_await j) co_return id;
      server.abort();
      co_return -1;
    };
    EXPECT_EQ(rt.block_on(body(std::move(child_kinds), socket_name)), -1)
        << "a child or a client went wrong near this id";
    EXPECT_TRUE(weft::test::eventually([] { return weft::test::num_zombie_children() == 0; }))
        << weft::test::num_zombie_children() << " zombies";
  }
  EXPECT_TRUE(weft::test::eventually([&] { return num_open_fds() <= fds_before + 1; }))
      << "descriptors before " << fds_before << ", after " << num_open_fds();
}

}  // namespace

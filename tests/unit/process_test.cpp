// SPDX-License-Identifier: MIT
// weft::process: spawning, pipes, exit statuses, kill, background reaping,
// fd exhaustion and the SIGCHLD fallback. Needs: posix_spawn, pidfd_open
// (Linux 5.3; the fallback tests force the SIGCHLD path), pidfd_send_signal
// (5.1), and sh, cat, sleep, head, true, false on PATH.
#include <weft/process.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include "process/child_state.hpp"
#include "weft_os_helpers.hpp"
#include "weft_task_helpers.hpp"
#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <csignal>
#include <exception>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace {

using namespace std::chrono_literals;
using weft::task;
using weft::process::captured_output;
using weft::process::child;
using weft::process::command;
using weft::process::exit_status;
using weft::process::stdio;
using weft::test::multi;

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

command sh(std::string script) {
  command c("sh");
  c.args({"-c", std::move(script)});
  return c;
}

/// Switches new children to the SIGCHLD fallback for the scope.
struct sigchld_fallback {
  sigchld_fallback() { weft::process::detail::force_sigchld_fallback(true); }
  ~sigchld_fallback() { weft::process::detail::force_sigchld_fallback(false); }
};

TEST(Process, OutputCapturesBothStreamsAndTheExitCode) {
  auto rt = multi();
  const captured_output out = rt.block_on(sh("echo out; echo err >&2; exit 3").output());
  EXPECT_EQ(out.stdout_data, "out\n");
  EXPECT_EQ(out.stderr_data, "err\n");
  EXPECT_EQ(out.status.code, 3);
  EXPECT_FALSE(out.status.signal);
  EXPECT_FALSE(out.status.success());
}

TEST(Process, StatusGivesSuccessAndFailure) {
  auto rt = multi();
  EXPECT_TRUE(rt.block_on(command("true").status()).success());
  const exit_status failed = rt.block_on(command("false").status());
  EXPECT_EQ(failed, (exit_status{1, std::nullopt}));
}

TEST(Process, MissingProgramThrowsEnoentAtOnceNamingIt) {
  auto rt = multi();
  auto body = []() -> task<void> {
    for (const char* missing : {"weft-no-such-program", "/no/such/dir/weft-prog"}) {
      try {
        (void)command(missing).spawn();
        ADD_FAILURE() << "spawned " << missing;
      } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory) << e.what();
        EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
      }
    }
    EXPECT_THROW((void)co_await command("weft-no-such-program").output(), std::system_error);
  };
  rt.block_on(body());
  EXPECT_EQ(weft::test::num_zombie_children(), 0u);
}

TEST(Process, SpawnOutsideARuntimeStartsNothing) {
  const auto zombies = weft::test::num_zombie_children();
  EXPECT_THROW((void)command("true").spawn(), weft::no_runtime);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(weft::test::num_zombie_children(), zombies) << "a child was started and left behind";
}

TEST(Process, KillEndsTheChildWithSigkill) {
  auto rt = multi();
  auto body = []() -> task<exit_status> {
    child c = command("sleep").arg("30").spawn();
    EXPECT_GT(c.id(), 0);
    // A wait cancelled by a timeout leaves the child running and waitable.
    auto early = co_await weft::timeout(50ms, c.wait());
    EXPECT_FALSE(early.has_value());
    c.kill();
    const exit_status first = co_await c.wait();
    c.kill();   // reaped: nothing to do
    EXPECT_EQ(co_await c.wait(), first) << "a second wait gives the same status";
    co_return first;
  };
  const exit_status st = rt.block_on(body());
  EXPECT_FALSE(st.code);
  EXPECT_EQ(st.signal, SIGKILL);
  EXPECT_FALSE(st.success());
}

TEST(Process, PipesStdinThroughTheChild) {
  auto rt = multi();
  auto body = []() -> task<std::string> {
    command cat("cat");
    cat.set_stdin(stdio::piped).set_stdout(stdio::piped);
    child c = cat.spawn();
    auto in = c.take_stdin();
    auto out = c.take_stdout();
    EXPECT_TRUE(in && out);
    EXPECT_FALSE(c.take_stdin()) << "taken twice";
    EXPECT_FALSE(c.take_stderr()) << "stderr was not piped";
    co_await in->write_all(bytes_of("hello, child"));
    in->shutdown_write();
    std::string got;
    std::array<std::byte, 7> buf;   // small reads: several of them
    for (std::size_t n; (n = co_await out->read(buf)) != 0;) got.append(reinterpret_cast<const char*>(buf.data()), n);
    EXPECT_TRUE((co_await c.wait()).success());
    co_return got;
  };
  EXPECT_EQ(rt.block_on(body()), "hello, child");
}

TEST(Process, WritingToAChildThatExitedIsEpipeNotSigpipe) {
  auto rt = multi();
  auto body = []() -> task<void> {
    command t("true");
    t.set_stdin(stdio::piped);
    child c = t.spawn();
    auto in = c.take_stdin();
    EXPECT_TRUE((co_await c.wait()).success());
    try {
      co_await in->write_all(bytes_of("nobody reads this"));
      ADD_FAILURE() << "wrote to a closed pipe";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::broken_pipe) << e.what();
    }
  };
  rt.block_on(body());   // a SIGPIPE would have ended the test process
}

// stderr is filled first: output() must read it while the 64 MiB of stdout
// flow, or the child blocks on a full stderr pipe and never finishes.
TEST(Process, LargeOutputOnBothStreamsDoesNotDeadlock) {
  auto rt = multi();
  const captured_output out =
      rt.block_on(sh("head -c 4194304 /dev/zero >&2; head -c 67108864 /dev/zero; echo done >&2").output());
  EXPECT_TRUE(out.status.success());
  EXPECT_EQ(out.stdout_data.size(), 64u << 20);
  EXPECT_EQ(out.stderr_data.size(), (4u << 20) + 5);
}

TEST(Process, EnvironmentAndWorkingDirectory) {
  weft::test::temp_dir dir;
  auto rt = multi();
  command kept = sh("echo \"$WEFT_A\"; test -n \"$PATH\" && echo has-path; pwd");
  kept.env("WEFT_A", "one").env("WEFT_A", "two").current_dir(dir.path());
  const captured_output a = rt.block_on(kept.output());
  EXPECT_EQ(a.stdout_data, "two\nhas-path\n" + std::filesystem::canonical(dir.path()).string() + "\n");
  command cleared("env");   // found through the parent's PATH; prints the child's environment
  cleared.env_clear().env("WEFT_B", "b");
  EXPECT_EQ(rt.block_on(cleared.output()).stdout_data, "WEFT_B=b\n");
  command bad_dir("true");
  bad_dir.current_dir(dir.path() / "missing");
  EXPECT_THROW(rt.block_on(bad_dir.status()), std::system_error);
}

// Children dropped unwaited are reaped by the runtime: after 1,000 of them
// none is left (no zombie), and no thread was started for them.
TEST(Process, DroppedChildrenLeaveNoZombiesAndNoThreads) {
  auto rt = multi();
  auto body = []() -> task<std::pair<std::size_t, std::size_t>> {
    co_await weft::yield_now();
    const std::size_t threads_before = weft::test::num_threads();
    for (int i = 0; i < 1000; ++i) {
      child c = command("true").spawn();
      if (i % 100 == 0) co_await weft::yield_now();
    }   // each dropped unwaited
    const auto deadline = std::chrono::steady_clock::now() + weft::test::max_wait;
    // Until every child is gone (a `true` still running is a zombie later).
    while (weft::test::num_children() != 0 && std::chrono::steady_clock::now() < deadline) co_await weft::sleep(10ms);
    co_return std::pair(weft::test::num_threads() - threads_before, weft::test::num_children());
  };
  const auto [new_threads, left] = rt.block_on(body());
  EXPECT_EQ(left, 0u) << "children neither running nor reaped: zombies";
  EXPECT_EQ(new_threads, 0u);
}

// A child still running when its runtime shuts down goes on the orphan list
// and is reaped by a later spawn.
TEST(Process, ChildOutlivingItsRuntimeIsReapedByALaterSpawn) {
  {
    auto rt = multi();
    rt.block_on([]() -> task<void> {
      child c = command("sleep").arg("0.2").spawn();
      co_return;
    }());
  }
  std::this_thread::sleep_for(500ms);   // it has exited by now: a zombie nobody waits for
  auto rt = multi();
  rt.block_on(command("true").status());
  EXPECT_EQ(weft::test::num_zombie_children(), 0u);
}

TEST(Process, SpawnUnderFdExhaustionFailsCleanlyAndRecovers) {
  auto rt = multi();
  auto body = []() -> task<void> {
    std::array<std::exception_ptr, 2> failures;
    {
      weft::test::fd_exhaustion no_fds;
      const std::array<stdio, 2> hows{stdio::piped, stdio::inherit};   // the pipes fail, or the pidfd
      for (std::size_t i = 0; i < hows.size(); ++i) {
        command c("true");
        c.set_stdout(hows[i]);
        try {
          (void)c.spawn();
        } catch (...) {
          failures[i] = std::current_exception();
        }
      }
    }
    for (const std::exception_ptr& failure : failures) {   // descriptors free again
      const auto [code, what] = weft::test::system_error_of(failure);
      EXPECT_EQ(code, std::errc::too_many_files_open) << what;
      EXPECT_NE(what.find("true"), std::string::npos) << what;
    }
    EXPECT_EQ(weft::test::num_zombie_children(), 0u) << "a child that could not be watched was left behind";
    const captured_output out = co_await sh("echo back").output();
    EXPECT_EQ(out.stdout_data, "back\n");
  };
  rt.block_on(body());
}

TEST(Process, SigchldFallbackWaitsKillsAndReaps) {
  sigchld_fallback fallback;
  weft::test::signal_sink sink({SIGCHLD});
  auto rt = multi();
  auto body = []() -> task<void> {
    EXPECT_EQ((co_await sh("exit 7").status()).code, 7);
    child sleeper = command("sleep").arg("30").spawn();
    sleeper.kill();
    EXPECT_EQ((co_await sleeper.wait()).signal, SIGKILL);
    EXPECT_EQ((co_await sh("echo fallback").output()).stdout_data, "fallback\n");
    for (int i = 0; i < 20; ++i) child dropped = command("true").spawn();
    const auto deadline = std::chrono::steady_clock::now() + weft::test::max_wait;
    // Every child gone, not only no zombie: a `true` still running when
    // zombies are counted becomes one a moment later.
    while (weft::test::num_children() != 0 && std::chrono::steady_clock::now() < deadline) co_await weft::sleep(10ms);
    EXPECT_EQ(weft::test::num_children(), 0u);
  };
  rt.block_on(body());
}

}  // namespace

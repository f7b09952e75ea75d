// SPDX-License-Identifier: MIT
// weft::signal_listener and weft::ctrl_c. Signals go to this test process
// only (raise / kill(getpid())). Needs: eventfd (Linux 2.6.22), epoll.
#include <weft/signal.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include "weft_os_helpers.hpp"
#include "weft_task_helpers.hpp"
#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <signal.h>
#include <unistd.h>

namespace {

using namespace std::chrono_literals;
using weft::signal_listener;
using weft::task;
using weft::test::multi;

/// The handler the process has for `signo` now.
void (*current_handler(int signo))(int) {
  struct sigaction now{};
  ::sigaction(signo, nullptr, &now);
  return now.sa_handler;
}

/// recv() within the test's bound: true if it completed.
task<bool> received(signal_listener& l, std::chrono::nanoseconds limit = weft::test::max_wait) {
  auto r = co_await weft::timeout(limit, l.recv());
  co_return r.has_value();
}

std::atomic<int> foreign_deliveries{0};
void foreign_handler(int) { foreign_deliveries.fetch_add(1); }

/// Installs foreign_handler for `signo` for the scope, then SIG_DFL.
struct foreign_disposition {
  explicit foreign_disposition(int signo) : signo_(signo) {
    struct sigaction a{};
    a.sa_handler = foreign_handler;
    sigemptyset(&a.sa_mask);
    ::sigaction(signo_, &a, nullptr);
  }
  ~foreign_disposition() { ::signal(signo_, SIG_DFL); }
  int signo_;
};

TEST(Signal, RejectsUncatchableAndOutOfRangeNumbers) {
  for (const int bad : {SIGKILL, SIGSTOP, SIGSEGV, SIGILL, SIGFPE, 0, -1, NSIG, 1000})
    EXPECT_THROW((void)signal_listener::on(bad), std::invalid_argument) << bad;
}

TEST(Signal, DeliveryBetweenOnAndRecvIsKept) {
  foreign_disposition guard(SIGUSR1);
  auto rt = multi();
  const int foreign_before = foreign_deliveries.load();
  auto l = signal_listener::on(SIGUSR1);
  EXPECT_EQ(l.signo(), SIGUSR1);
  ASSERT_EQ(::raise(SIGUSR1), 0);   // before anyone awaits
  EXPECT_TRUE(rt.block_on(received(l)));
  EXPECT_EQ(foreign_deliveries.load(), foreign_before) << "the previous handler must not run while a listener exists";
}

TEST(Signal, PendingDeliveriesCoalesceIntoOneRecv) {
  foreign_disposition guard(SIGUSR1);
  auto rt = multi();
  auto l = signal_listener::on(SIGUSR1);
  for (int i = 0; i < 3; ++i) ::raise(SIGUSR1);
  EXPECT_TRUE(rt.block_on(received(l)));
  EXPECT_FALSE(rt.block_on(received(l, 100ms))) << "three pending deliveries gave two recvs";
  ::raise(SIGUSR1);
  EXPECT_TRUE(rt.block_on(received(l)));
}

TEST(Signal, EveryListenerGetsEveryDeliveryAcrossRuntimes) {
  foreign_disposition guard(SIGUSR2);
  weft::test::signal_sink sink({SIGUSR2});
  auto rt1 = multi();
  auto rt2 = weft::test::single();
  auto a = signal_listener::on(SIGUSR2);
  auto b = signal_listener::on(SIGUSR2);
  auto c = signal_listener::on(SIGUSR2);
  for (int round = 0; round < 20; ++round) {
    ::kill(::getpid(), SIGUSR2);
    EXPECT_TRUE(rt1.block_on(received(a))) << round;
    EXPECT_TRUE(rt1.block_on(received(b))) << round;
    EXPECT_TRUE(rt2.block_on(received(c))) << round;
  }
}

TEST(Signal, WaitingTasksAreWokenBySignalsFromAnotherThread) {
  foreign_disposition guard(SIGUSR1);
  weft::test::signal_sink sink({SIGUSR1});   // delivered on a thread that is not the runtime's
  auto rt = multi();
  auto body = []() -> task<int> {
    std::vector<weft::join_handle<bool>> waiting;
    std::atomic<int> started{0};
    for (int i = 0; i < 8; ++i) {
      waiting.push_back(weft::spawn([](signal_listener l, std::atomic<int>* s) -> task<bool> {
        s->fetch_add(1);
        co_return co_await received(l);
      }(signal_listener::on(SIGUSR1), &started)));
    }
    while (started.load() < 8) co_await weft::yield_now();
    co_await weft::sleep(20ms);   // let them suspend; a delivery before that is kept anyway
    std::thread([] { ::kill(::getpid(), SIGUSR1); }).join();
    int woken = 0;
    for (auto& h : waiting) woken += (co_await h) ? 1 : 0;
    co_return woken;
  };
  EXPECT_EQ(rt.block_on(body()), 8);
}

TEST(Signal, PreviousDispositionIsRestoredByTheLastListener) {
  foreign_disposition guard(SIGUSR2);
  {
    auto first = signal_listener::on(SIGUSR2);
    EXPECT_NE(current_handler(SIGUSR2), &foreign_handler);
    {
      auto second = signal_listener::on(SIGUSR2);
      auto moved = std::move(second);
    }
    EXPECT_NE(current_handler(SIGUSR2), &foreign_handler) << "restored while a listener remained";
  }
  EXPECT_EQ(current_handler(SIGUSR2), &foreign_handler);
  const int before = foreign_deliveries.load();
  ::raise(SIGUSR2);
  EXPECT_EQ(foreign_deliveries.load(), before + 1);
}

TEST(Signal, CtrlCInstallsItsHandlerWhenCalled) {
  struct sigaction saved{};
  ::sigaction(SIGINT, nullptr, &saved);
  auto rt = multi();
  {
    task<void> interrupted = weft::ctrl_c();   // not yet awaited
    ASSERT_EQ(::raise(SIGINT), 0);            // would end the test process without the handler
    auto r = rt.block_on(weft::timeout(weft::test::max_wait, std::move(interrupted)));
    EXPECT_TRUE(r.has_value());
  }
  struct sigaction after{};
  ::sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, saved.sa_handler) << "SIGINT's disposition was not restored";
}

TEST(Signal, RuntimeShutdownCancelsAWaitingListener) {
  foreign_disposition guard(SIGUSR1);
  std::atomic<int> live{0};
  std::atomic<bool> waiting{false};
  {
    auto rt = multi();
    auto h = rt.get_handle().spawn([](weft::test::lifetime_probe, std::atomic<bool>* w) -> task<void> {
      auto l = signal_listener::on(SIGUSR1);
      w->store(true);
      co_await l.recv();
      ADD_FAILURE() << "woken without a signal";
    }(weft::test::lifetime_probe(live), &waiting));
    ASSERT_TRUE(weft::test::eventually([&] { return waiting.load(); }));
    EXPECT_NE(current_handler(SIGUSR1), &foreign_handler);
  }   // the runtime goes while the task waits
  EXPECT_EQ(live.load(), 0) << "the waiting task's frame was not destroyed";
  EXPECT_EQ(current_handler(SIGUSR1), &foreign_handler) << "the cancelled listener did not restore the disposition";
}

TEST(Signal, MovedFromListenerThrowsLogicError) {
  auto rt = multi();
  auto l = signal_listener::on(SIGUSR1);
  auto other = std::move(l);
  EXPECT_THROW(rt.block_on(l.recv()), std::logic_error);   // NOLINT(bugprone-use-after-move)
}

TEST(Signal, ListenerCreatedOutsideARuntimeIsAwaitedInOne) {
  foreign_disposition guard(SIGUSR1);
  auto l = signal_listener::on(SIGUSR1);
  ::raise(SIGUSR1);
  auto rt = weft::test::single();
  EXPECT_TRUE(rt.block_on(received(l)));
  // Then in another runtime: it registers there.
  auto rt2 = multi();
  ::raise(SIGUSR1);
  EXPECT_TRUE(rt2.block_on(received(l)));
}

}  // namespace

// SPDX-License-Identifier: MIT
// The reactor alone, with fake tasks: a task_header whose scheduler only
// counts how often it was scheduled, polled by hand on the test thread.
#include "io/reactor.hpp"   // first: proves the header is self-contained

#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <coroutine>
#include <cstddef>
#include <future>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using weft::detail::direction;
using weft::detail::reactor;
using weft::detail::readiness_awaiter;
using weft::detail::registration;
using weft::detail::task_header;

// -- a hand-driven task --------------------------------------------------------------

struct counting_target final : weft::detail::schedule_target {
  void schedule(task_header&) noexcept override { scheduled.fetch_add(1); }
  void on_complete(task_header&) noexcept override {}
  std::atomic<int> scheduled{0};
};

/// A bare coroutine: starts suspended, stays suspended at its end; the test
/// owns the frame.
struct bare_coroutine {
  struct promise_type {
    bare_coroutine get_return_object() { return {std::coroutine_handle<promise_type>::from_promise(*this)}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> frame;
};

class fake_task final : public task_header {
public:
  fake_task(counting_target& target, bare_coroutine c)
      : task_header(&target, std::source_location::current(), 0), frame_(c.frame) {
    resume_at_ = frame_;
  }
  void poll() noexcept override {
    begin_poll();
    {
      poll_scope scope(this);
      if (auto at = std::exchange(resume_at_, {})) at.resume();
    }
    end_poll();
  }
  void abort() noexcept override {}
  bool is_done() const noexcept { return frame_.done(); }
  /// Cancellation as the scheduler does it: destroy the suspended frame.
  void destroy_frame() noexcept {
    if (frame_) std::exchange(frame_, {}).destroy();
  }
  ~fake_task() override { destroy_frame(); }

private:
  std::coroutine_handle<> frame_;
};

/// Owns a fake_task through its reference count.
struct task_ref {
  explicit task_ref(fake_task* t) : task(t) {}
  task_ref(const task_ref&) = delete;
  task_ref& operator=(const task_ref&) = delete;
  ~task_ref() { task->release(); }
  fake_task* operator->() const { return task; }
  fake_task* task;
};

/// Reads one byte from `fd` the way weft's sockets do: ticket, syscall, and
/// on EAGAIN wait for readiness, then retry.
bare_coroutine read_one(registration& reg, int& out) {
  for (;;) {
    const std::uint32_t ticket = reg.ticket(direction::read);
    char c = 0;
    const ssize_t n = ::read(reg.fd(), &c, 1);
    if (n == 1) {
      out = c;
      co_return;
    }
    if (n == 0) {
      out = -1;   // end of stream
      co_return;
    }
    readiness_awaiter ready(reg, direction::read, ticket);
    co_await ready;
  }
}

bare_coroutine write_one(registration& reg, bool& done) {
  for (;;) {
    const std::uint32_t ticket = reg.ticket(direction::write);
    const char c = 'w';
    if (::send(reg.fd(), &c, 1, MSG_NOSIGNAL) == 1) {
      done = true;
      co_return;
    }
    readiness_awaiter ready(reg, direction::write, ticket);
    co_await ready;
  }
}

struct fd_pair {
  fd_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
      throw std::runtime_error("socketpair");
    a = fds[0];
    b = fds[1];
  }
  ~fd_pair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
  int a = -1;
  int b = -1;
};

void put(int fd, char c) { ASSERT_EQ(::write(fd, &c, 1), 1); }

/// Runs wait() until `pred` holds; bounded.
template <class Pred>
bool wait_until(reactor& r, Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + weft::test::max_wait;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    r.wait(std::chrono::milliseconds(10));
  }
  return true;
}

// -- tests ----------------------------------------------------------------------------

TEST(Reactor, ReadReadinessWakesTheWaiter) {
  reactor r;
  fd_pair p;
  registration* reg = r.add(p.a);
  counting_target target;
  int got = 0;
  task_ref t(new fake_task(target, read_one(*reg, got)));
  r.wait(std::chrono::nanoseconds::zero());   // consume the registration's initial edge
  t->poll();
  ASSERT_FALSE(t->is_done());
  EXPECT_EQ(reg->num_waiters(direction::read), 1u);

  put(p.b, 'x');
  ASSERT_TRUE(wait_until(r, [&] { return target.scheduled.load() == 1; }));
  EXPECT_EQ(reg->num_waiters(direction::read), 0u);
  t->poll();
  EXPECT_TRUE(t->is_done());
  EXPECT_EQ(got, 'x');
  r.remove(reg);
}

TEST(Reactor, AnEdgeBetweenTheSyscallAndTheWaitIsNotLost) {
  reactor r;
  fd_pair p;
  registration* reg = r.add(p.a);
  r.wait(std::chrono::nanoseconds::zero());
  const std::uint32_t ticket = reg->ticket(direction::read);
  char c;
  ASSERT_EQ(::read(p.a, &c, 1), -1);   // EAGAIN: would now wait...
  put(p.b, 'y');                        // ...but the edge comes first
  ASSERT_TRUE(wait_until(r, [&] { return reg->ticket(direction::read) != ticket; }));
  readiness_awaiter ready(*reg, direction::read, ticket);
  EXPECT_TRUE(ready.await_ready());     // returns at once: retry the syscall
  r.remove(reg);
}

TEST(Reactor, WriteReadinessWakesTheWriter) {
  reactor r;
  fd_pair p;
  registration* reg = r.add(p.a);
  std::vector<char> chunk(1 << 16, 'z');
  while (::send(p.a, chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0) {}
  ASSERT_EQ(errno, EAGAIN);
  r.wait(std::chrono::nanoseconds::zero());
  counting_target target;
  bool done = false;
  task_ref t(new fake_task(target, write_one(*reg, done)));
  t->poll();
  ASSERT_FALSE(done);
  EXPECT_EQ(reg->num_waiters(direction::write), 1u);

  while (::read(p.b, chunk.data(), chunk.size()) > 0) {}
  ASSERT_TRUE(wait_until(r, [&] { return target.scheduled.load() == 1; }));
  t->poll();
  EXPECT_TRUE(done);
  r.remove(reg);
}

TEST(Reactor, PeerCloseWakesTheReader) {
  reactor r;
  fd_pair p;
  registration* reg = r.add(p.a);
  r.wait(std::chrono::nanoseconds::zero());
  counting_target target;
  int got = 0;
  task_ref t(new fake_task(target, read_one(*reg, got)));
  t->poll();
  ::close(std::exchange(p.b, -1));
  ASSERT_TRUE(wait_until(r, [&] { return target.scheduled.load() == 1; }));
  t->poll();
  EXPECT_TRUE(t->is_done());
  EXPECT_EQ(got, -1);
  r.remove(reg);
}

TEST(Reactor, DestroyedWaiterUnlinksAndIsNeverWoken) {
  reactor r;
  fd_pair p;
  registration* reg = r.add(p.a);
  r.wait(std::chrono::nanoseconds::zero());
  counting_target target;
  int got = 0;
  task_ref t(new fake_task(target, read_one(*reg, got)));
  t->poll();
  ASSERT_EQ(reg->num_waiters(direction::read), 1u);
  t->destroy_frame();   // cancelled while waiting
  EXPECT_EQ(reg->num_waiters(direction::read), 0u);
  put(p.b, 'x');
  ASSERT_TRUE(wait_until(r, [&] { return reg->ticket(direction::read) != 0; }));
  EXPECT_EQ(target.scheduled.load(), 0);
  char c = 0;
  EXPECT_EQ(::read(p.a, &c, 1), 1);   // the byte was never taken
  EXPECT_EQ(c, 'x');
  r.remove(reg);
}

TEST(Reactor, EveryWaiterIsWokenBeyondOneBatch) {
  reactor r;
  fd_pair p;
  registration* reg = r.add(p.a);
  r.wait(std::chrono::nanoseconds::zero());
  counting_target target;
  constexpr int n = 20;
  std::vector<int> got(n, 0);
  std::vector<std::unique_ptr<task_ref>> tasks;
  for (int i = 0; i < n; ++i) {
    tasks.push_back(
        std::make_unique<task_ref>(new fake_task(target, read_one(*reg, got[static_cast<std::size_t>(i)]))));
    (*tasks.back())->poll();
  }
  ASSERT_EQ(reg->num_waiters(direction::read), static_cast<std::size_t>(n));
  put(p.b, 'x');
  ASSERT_TRUE(wait_until(r, [&] { return target.scheduled.load() == n; }));
  EXPECT_EQ(reg->num_waiters(direction::read), 0u);
  for (auto& t : tasks) (*t)->destroy_frame();
  r.remove(reg);
}

TEST(Reactor, AwaitOutsideATaskThrowsLogicError) {
  reactor r;
  fd_pair p;
  registration* reg = r.add(p.a);
  readiness_awaiter ready(*reg, direction::read, reg->ticket(direction::read));
  EXPECT_THROW(ready.await_suspend(std::noop_coroutine()), std::logic_error);
  r.remove(reg);
}

TEST(Reactor, UnparkEndsAConcurrentWait) {
  reactor r;
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    r.wait(std::nullopt);
    returned = true;
  });
  // Unpark until the waiter returns: the first unpark may land before it
  // waits, which also counts (it returns at once).
  ASSERT_TRUE(weft::test::eventually([&] {
    r.unpark();
    return returned.load();
  }));
  waiter.join();
}

TEST(Reactor, UnparkBeforeWaitMakesItReturnAndAFloodCostsOneWake) {
  reactor r;
  for (int i = 0; i < 1000; ++i) r.unpark();
  r.wait(std::nullopt);   // returns: would hang otherwise (ctest TIMEOUT)
  r.unpark();             // the flag was cleared: this one writes again
  r.wait(std::nullopt);
}

TEST(Reactor, ZeroTimeoutDoesNotBlockAndATimeoutExpires) {
  reactor r;
  r.wait(std::chrono::nanoseconds::zero());
  r.wait(std::chrono::microseconds(50));
  r.wait(std::chrono::nanoseconds(-5));   // a deadline in the past
}

TEST(Reactor, RemovedRegistrationIsFreedByTheNextWait) {
  reactor r;
  fd_pair p;
  registration* reg = r.add(p.a);
  put(p.b, 'x');   // an event naming it is pending in epoll
  r.remove(reg);
  EXPECT_EQ(r.num_pending_release(), 1u);
  r.wait(std::chrono::nanoseconds::zero());   // frees it first; epoll no longer reports it
  EXPECT_EQ(r.num_pending_release(), 0u);
}

TEST(Reactor, RegisteringAClosedDescriptorThrows) {
  reactor r;
  EXPECT_THROW(r.add(-1), std::system_error);
}

// Deregistration races the driver: one thread waits and dispatches while
// another registers, readies and removes descriptors. ASan/TSan catch a
// registration freed while an event naming it is dispatched.
TEST(Reactor, RemoveIsSafeAgainstAConcurrentWait) {
  reactor r;
  std::atomic<bool> stop{false};
  std::thread driver([&] {
    while (!stop.load()) r.wait(std::chrono::milliseconds(1));
  });
  const int rounds = static_cast<int>(weft::test::stress_iterations(2000));
  for (int i = 0; i < rounds; ++i) {
    const int efd = ::eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);   // readable at once
    ASSERT_GE(efd, 0);
    registration* reg = r.add(efd);
    if (i % 2 == 0) std::this_thread::yield();
    r.remove(reg);
    ::close(efd);
  }
  stop = true;
  r.unpark();
  driver.join();
}

}  // namespace

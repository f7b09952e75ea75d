// SPDX-License-Identifier: MIT
// weft::mutex, weft::semaphore and weft::notify: behaviour, FIFO fairness,
// the stored permit, and cancel safety (abort and timeout) with exact counts.
//
// Tests that need a deterministic interleaving use a current_thread runtime:
// a spawned task runs only while the test's own task is suspended, so "it
// has reached its co_await" is known once a flag it sets before awaiting is
// seen, and an aborted task's frame is destroyed only when we next yield.
#include <weft/sync.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include "weft_task_helpers.hpp"
#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using weft::test::multi;
using weft::test::single;

using namespace std::chrono_literals;
using weft::join_handle;
using weft::task;

/// Yields until `*count` reaches `want`; a test failure if it takes longer
/// than max_wait.
task<void> yield_until(const std::atomic<int>* count, int want) {
  const auto deadline = std::chrono::steady_clock::now() + weft::test::max_wait;
  while (count->load() < want) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "count stayed at " << count->load() << ", wanted " << want;
      co_return;
    }
    co_await weft::yield_now();
  }
}

using weft::test::finishes;
using weft::test::yield_times;

// -- mutex --------------------------------------------------------------------

task<void> lock_and_record(weft::mutex* m, std::atomic<int>* entered, std::vector<int>* order, int id) {
  entered->fetch_add(1);
  auto guard = co_await m->lock();
  order->push_back(id);
}

TEST(Mutex, TryLockFailsWhileLockedAndSucceedsAfter) {
  auto rt = single();
  auto body = []() -> task<void> {
    weft::mutex m;
    {
      auto g = co_await m.lock();
      EXPECT_TRUE(g.owns_lock());
      EXPECT_FALSE(m.try_lock().has_value());
      auto moved = std::move(g);
      EXPECT_FALSE(g.owns_lock());
      EXPECT_FALSE(m.try_lock().has_value());
      moved.unlock();
      EXPECT_FALSE(moved.owns_lock());
      auto again = m.try_lock();
      EXPECT_TRUE(again.has_value());
    }
    EXPECT_TRUE(m.try_lock().has_value());
  };
  rt.block_on(body());
}

TEST(Mutex, WaitersGetTheLockInFifoOrder) {
  auto rt = single();
  auto body = []() -> task<std::vector<int>> {
    weft::mutex m;
    std::atomic<int> entered{0};
    std::vector<int> order;
    std::vector<join_handle<void>> handles;
    auto guard = co_await m.lock();
    for (int i = 0; i < 8; ++i) {
      handles.push_back(weft::spawn(lock_and_record(&m, &entered, &order, i)));
      co_await yield_until(&entered, i + 1);   // i is queued before i + 1 starts
    }
    EXPECT_FALSE(m.try_lock().has_value());   // no barging past the queue
    guard.unlock();
    for (auto& h : handles)
      if (!co_await finishes(&h)) co_return order;
    co_return order;
  };
  EXPECT_EQ(rt.block_on(body()), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

task<void> increment_under_lock(weft::mutex* m, int* counter, std::atomic<int>* inside, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    auto guard = co_await m->lock();
    EXPECT_EQ(inside->fetch_add(1), 0);
    const int seen = *counter;
    co_await weft::yield_now();   // held across a suspension, maybe onto another worker
    *counter = seen + 1;
    inside->fetch_sub(1);
  }
}

TEST(Mutex, ExcludesAcrossWorkers) {
  auto rt = multi();
  auto body = []() -> task<int> {
    weft::mutex m;
    int counter = 0;
    std::atomic<int> inside{0};
    std::vector<join_handle<void>> handles;
    for (int i = 0; i < 8; ++i) handles.push_back(weft::spawn(increment_under_lock(&m, &counter, &inside, 300)));
    for (auto& h : handles) co_await h;
    co_return counter;
  };
  EXPECT_EQ(rt.block_on(body()), 8 * 300);
}

TEST(Mutex, AbortedWaiterLeavesTheQueue) {
  auto rt = single();
  auto body = []() -> task<std::vector<int>> {
    weft::mutex m;
    std::atomic<int> entered{0};
    std::vector<int> order;
    auto guard = co_await m.lock();
    auto a = weft::spawn(lock_and_record(&m, &entered, &order, 1));
    auto b = weft::spawn(lock_and_record(&m, &entered, &order, 2));
    co_await yield_until(&entered, 2);
    a.abort();
    auto joined = co_await a.join();   // a's frame (and waiter) destroyed, still queued
    EXPECT_TRUE(!joined && joined.error().is_cancelled());
    guard.unlock();
    if (!co_await finishes(&b)) co_return order;
    EXPECT_TRUE(m.try_lock().has_value());
    co_return order;
  };
  EXPECT_EQ(rt.block_on(body()), std::vector<int>{2});
}

TEST(Mutex, LockHandedToACancelledWaiterPassesOn) {
  auto rt = single();
  auto body = []() -> task<std::vector<int>> {
    weft::mutex m;
    std::atomic<int> entered{0};
    std::vector<int> order;
    auto guard = co_await m.lock();
    auto a = weft::spawn(lock_and_record(&m, &entered, &order, 1));
    auto b = weft::spawn(lock_and_record(&m, &entered, &order, 2));
    co_await yield_until(&entered, 2);
    a.abort();       // a cannot run before we suspend: its waiter is still first
    guard.unlock();  // hands the lock to a's waiter; a's destruction passes it to b
    if (!co_await finishes(&b)) co_return order;
    auto joined = co_await a.join();
    EXPECT_TRUE(!joined && joined.error().is_cancelled());
    EXPECT_TRUE(m.try_lock().has_value());   // not leaked
    co_return order;
  };
  EXPECT_EQ(rt.block_on(body()), std::vector<int>{2});
}

TEST(Mutex, LockCancelledByTimeoutLeavesItFree) {
  auto rt = multi();
  auto body = []() -> task<void> {
    weft::mutex m;
    {
      auto guard = co_await m.lock();
      auto expired = co_await weft::timeout(5ms, m.lock());
      EXPECT_FALSE(expired.has_value());
    }
    auto got = co_await weft::timeout(weft::test::max_wait, m.lock());
    if (!got) {
      ADD_FAILURE() << "timed out";
      co_return;
    }
    EXPECT_TRUE(got->owns_lock());
    EXPECT_FALSE(m.try_lock().has_value());
    got->unlock();
    EXPECT_TRUE(m.try_lock().has_value());
  };
  rt.block_on(body());
}

TEST(Mutex, AwaitingOutsideATaskThrowsLogicError) {
  weft::mutex m;
  auto awaiter = m.lock().operator co_await();
  EXPECT_THROW(awaiter.await_suspend(std::noop_coroutine()), std::logic_error);
  EXPECT_TRUE(m.try_lock().has_value());
}

// -- semaphore ----------------------------------------------------------------

task<void> acquire_and_hold(weft::semaphore* s, std::size_t n, std::atomic<int>* entered, std::vector<int>* order,
                            int id, weft::notify* release) {
  entered->fetch_add(1);
  auto permit = co_await s->acquire(n);
  EXPECT_EQ(permit.num_permits(), n);
  order->push_back(id);
  if (release) co_await release->notified();
}

TEST(Semaphore, CountsAcquiredReleasedAddedAndForgottenPermits) {
  auto rt = single();
  auto body = []() -> task<void> {
    weft::semaphore s(3);
    EXPECT_EQ(s.available_permits(), 3u);
    {
      auto two = co_await s.acquire(2);
      EXPECT_EQ(s.available_permits(), 1u);
      EXPECT_FALSE(s.try_acquire(2).has_value());
      auto one = s.try_acquire();
      EXPECT_TRUE(one.has_value());
      EXPECT_EQ(s.available_permits(), 0u);
      auto none = co_await s.acquire(0);   // never waits
      EXPECT_EQ(none.num_permits(), 0u);
    }
    EXPECT_EQ(s.available_permits(), 3u);
    s.add_permits(2);
    EXPECT_EQ(s.available_permits(), 5u);
    auto p = co_await s.acquire(4);
    p.forget();
    EXPECT_EQ(s.available_permits(), 1u);
  };
  rt.block_on(body());
}

TEST(Semaphore, RejectsImpossibleCounts) {
  EXPECT_THROW(weft::semaphore(weft::semaphore::max_permits + 1), std::invalid_argument);
  weft::semaphore s(1);
  EXPECT_THROW((void)s.acquire(weft::semaphore::max_permits + 1), std::invalid_argument);
  EXPECT_THROW(s.add_permits(weft::semaphore::max_permits), std::invalid_argument);
  EXPECT_EQ(s.available_permits(), 1u);
}

TEST(Semaphore, LargeRequestAtTheHeadHoldsBackSmallerOnes) {
  auto rt = single();
  auto body = []() -> task<std::vector<int>> {
    weft::semaphore s(0);
    std::atomic<int> entered{0};
    std::vector<int> order;
    weft::notify release_big;
    auto big = weft::spawn(acquire_and_hold(&s, 2, &entered, &order, 1, &release_big));
    co_await yield_until(&entered, 1);
    auto small = weft::spawn(acquire_and_hold(&s, 1, &entered, &order, 2, nullptr));
    co_await yield_until(&entered, 2);
    s.add_permits(1);
    co_await yield_times(5);
    EXPECT_TRUE(order.empty());                 // 1 free, but the head wants 2
    EXPECT_FALSE(s.try_acquire(1).has_value()); // and try_acquire does not jump the queue
    s.add_permits(1);
    co_await yield_times(5);
    EXPECT_EQ(order, std::vector<int>{1});
    release_big.notify_one();                   // big returns its 2: small gets 1
    co_await big;
    co_await small;
    EXPECT_EQ(s.available_permits(), 2u);
    co_return order;
  };
  EXPECT_EQ(rt.block_on(body()), (std::vector<int>{1, 2}));
}

TEST(Semaphore, CancellingTheHeadLetsTheNextOneThrough) {
  auto rt = single();
  auto body = []() -> task<std::vector<int>> {
    weft::semaphore s(1);
    std::atomic<int> entered{0};
    std::vector<int> order;
    auto big = weft::spawn(acquire_and_hold(&s, 2, &entered, &order, 1, nullptr));
    co_await yield_until(&entered, 1);
    auto small = weft::spawn(acquire_and_hold(&s, 1, &entered, &order, 2, nullptr));
    co_await yield_until(&entered, 2);
    big.abort();
    if (!co_await finishes(&small)) co_return order;
    EXPECT_EQ(s.available_permits(), 1u);
    co_return order;
  };
  EXPECT_EQ(rt.block_on(body()), std::vector<int>{2});
}

TEST(Semaphore, PermitsGrantedToACancelledAcquireAreReturned) {
  auto rt = single();
  auto body = []() -> task<void> {
    weft::semaphore s(0);
    std::atomic<int> entered{0};
    std::vector<int> order;
    auto a = weft::spawn(acquire_and_hold(&s, 3, &entered, &order, 1, nullptr));
    co_await yield_until(&entered, 1);
    a.abort();         // a's waiter stays queued until a runs again
    s.add_permits(3);  // granted to a's waiter ...
    EXPECT_EQ(s.available_permits(), 0u);
    auto joined = co_await a.join();   // ... and given back when its frame dies
    EXPECT_TRUE(!joined && joined.error().is_cancelled());
    EXPECT_TRUE(order.empty());
    EXPECT_EQ(s.available_permits(), 3u);
  };
  rt.block_on(body());
}

TEST(Semaphore, AcquireCancelledByTimeoutLeaksNothing) {
  auto rt = multi();
  auto body = []() -> task<void> {
    weft::semaphore s(2);
    {
      auto held = co_await s.acquire(2);
      auto expired = co_await weft::timeout(5ms, s.acquire(1));
      EXPECT_FALSE(expired.has_value());
      EXPECT_EQ(s.available_permits(), 0u);
    }
    EXPECT_EQ(s.available_permits(), 2u);
    auto got = co_await weft::timeout(weft::test::max_wait, s.acquire(2));
    if (!got) {
      ADD_FAILURE() << "timed out";
      co_return;
    }
    EXPECT_EQ(got->num_permits(), 2u);
    EXPECT_EQ(s.available_permits(), 0u);
  };
  rt.block_on(body());
}

// -- notify -------------------------------------------------------------------

task<void> wait_notified(weft::notify* n, std::atomic<int>* entered, std::atomic<int>* woken) {
  auto op = n->notified();
  entered->fetch_add(1);
  co_await std::move(op);
  woken->fetch_add(1);
}

TEST(Notify, NotifyOneWithoutWaitersStoresOnePermit) {
  auto rt = multi();
  auto body = []() -> task<void> {
    weft::notify n;
    n.notify_one();
    n.notify_one();   // still one permit
    co_await n.notified();   // completes at once
    auto second = co_await weft::timeout(5ms, n.notified());
    EXPECT_FALSE(second.has_value());
  };
  rt.block_on(body());
}

TEST(Notify, NotifyOneWakesTheLongestWaiter) {
  auto rt = single();
  auto body = []() -> task<void> {
    weft::notify n;
    std::atomic<int> entered{0};
    std::atomic<int> woken{0};
    std::vector<join_handle<void>> hs;
    for (int i = 0; i < 3; ++i) {
      hs.push_back(weft::spawn(wait_notified(&n, &entered, &woken)));
      co_await yield_until(&entered, i + 1);
    }
    n.notify_one();
    co_await hs[0];
    co_await yield_times(5);
    EXPECT_EQ(woken.load(), 1);
    EXPECT_FALSE(hs[1].is_finished());
    n.notify_one();
    co_await hs[1];
    n.notify_one();
    co_await hs[2];
    EXPECT_EQ(woken.load(), 3);
  };
  rt.block_on(body());
}

TEST(Notify, NotifyWaitersWakesEveryWaiterAndStoresNothing) {
  auto rt = multi();
  auto body = []() -> task<void> {
    weft::notify n;
    std::atomic<int> entered{0};
    std::atomic<int> woken{0};
    std::vector<join_handle<void>> hs;
    for (int i = 0; i < 40; ++i) hs.push_back(weft::spawn(wait_notified(&n, &entered, &woken)));
    co_await yield_until(&entered, 40);
    // Each task created its notified() before counting itself, so even one
    // not yet suspended is covered by notify_waiters (Tokio's rule).
    n.notify_waiters();
    for (auto& h : hs) co_await h;
    EXPECT_EQ(woken.load(), 40);
    auto after = co_await weft::timeout(5ms, n.notified());
    EXPECT_FALSE(after.has_value());
  };
  rt.block_on(body());
}

TEST(Notify, NotifyOneHandedToACancelledWaiterPassesOn) {
  auto rt = single();
  auto body = []() -> task<void> {
    weft::notify n;
    std::atomic<int> entered{0};
    std::atomic<int> woken{0};
    auto a = weft::spawn(wait_notified(&n, &entered, &woken));
    auto b = weft::spawn(wait_notified(&n, &entered, &woken));
    co_await yield_until(&entered, 2);
    a.abort();
    n.notify_one();   // handed to a's waiter; its destruction passes it to b
    if (!co_await finishes(&b)) co_return;
    EXPECT_EQ(woken.load(), 1);
    auto stored = co_await weft::timeout(5ms, n.notified());
    EXPECT_FALSE(stored.has_value());   // passed on, not duplicated into a permit

    auto c = weft::spawn(wait_notified(&n, &entered, &woken));
    co_await yield_until(&entered, 3);
    c.abort();
    n.notify_one();   // handed to c, nobody behind: becomes the stored permit
    (void)co_await c.join();
    co_await n.notified();   // completes at once
    EXPECT_EQ(woken.load(), 1);
  };
  rt.block_on(body());
}

TEST(Notify, NotifiedFromAForeignThread) {
  auto rt = multi();
  auto body = []() -> task<void> {
    weft::notify n;
    std::atomic<int> entered{0};
    std::atomic<int> woken{0};
    auto h = weft::spawn(wait_notified(&n, &entered, &woken));
    co_await yield_until(&entered, 1);
    std::thread t([&n] { n.notify_one(); });
    co_await h;
    t.join();
    EXPECT_EQ(woken.load(), 1);
  };
  rt.block_on(body());
}

}  // namespace

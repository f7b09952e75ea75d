// SPDX-License-Identifier: MIT
// The channels: oneshot, mpsc (bounded and unbounded), broadcast and watch —
// behaviour, sending from blocking closures and foreign threads, closing, and
// cancel safety (abort and timeout) with exact message counts.
//
// As in sync_test.cpp, deterministic interleavings use a current_thread
// runtime: a spawned task runs only while the test's task is suspended.
// Over 500 lines: the four channels share these helpers and the issue asks
// for one channel test file.
#include <weft/sync.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include "weft_task_helpers.hpp"
#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using weft::test::multi;
using weft::test::single;

using namespace std::chrono_literals;
using weft::join_handle;
using weft::task;

using weft::test::finishes;
using weft::test::yield_times;

// -- oneshot ------------------------------------------------------------------

task<void> send_later(weft::oneshot::sender<std::string> tx) {
  co_await weft::yield_now();
  EXPECT_TRUE(tx.send("later"));
}

TEST(Oneshot, ValueSentBeforeOrAfterTheAwait) {
  auto rt = multi();
  auto body = []() -> task<void> {
    auto [tx, rx] = weft::oneshot::channel<std::string>();
    EXPECT_FALSE(tx.is_closed());
    EXPECT_TRUE(tx.send("now"));
    EXPECT_EQ(co_await std::move(rx), "now");

    auto [tx2, rx2] = weft::oneshot::channel<std::string>();
    auto h = weft::spawn(send_later(std::move(tx2)));
    EXPECT_EQ(co_await std::move(rx2), "later");
    co_await h;
  };
  rt.block_on(body());
}

TEST(Oneshot, SentFromABlockingClosure) {
  auto rt = multi();
  auto body = []() -> task<int> {
    auto [tx, rx] = weft::oneshot::channel<int>();
    auto h = weft::spawn_blocking([sender = std::move(tx)]() mutable { return sender.send(42); });
    const int v = co_await std::move(rx);
    EXPECT_TRUE(co_await h);
    co_return v;
  };
  EXPECT_EQ(rt.block_on(body()), 42);
}

TEST(Oneshot, SentFromAForeignThread) {
  auto rt = multi();
  auto body = []() -> task<int> {
    auto [tx, rx] = weft::oneshot::channel<int>();
    std::thread t([sender = std::move(tx)]() mutable { sender.send(7); });
    const int v = co_await std::move(rx);
    t.join();
    co_return v;
  };
  EXPECT_EQ(rt.block_on(body()), 7);
}

TEST(Oneshot, SenderDroppedUnsentThrowsChannelClosed) {
  auto rt = multi();
  auto body = []() -> task<int> {
    int closed = 0;
    {
      auto [tx, rx] = weft::oneshot::channel<int>();
      { auto gone = std::move(tx); }
      try {
        (void)co_await std::move(rx);
      } catch (const weft::channel_closed& e) {
        EXPECT_NE(std::string(e.what()).find("without sending"), std::string::npos);
        ++closed;
      }
    }
    {
      auto [tx, rx] = weft::oneshot::channel<int>();
      std::thread t([sender = std::move(tx)]() mutable { auto gone = std::move(sender); });
      try {
        (void)co_await std::move(rx);   // the drop may come before or after the await
      } catch (const weft::channel_closed&) {
        ++closed;
      }
      t.join();
    }
    co_return closed;
  };
  EXPECT_EQ(rt.block_on(body()), 2);
}

TEST(Oneshot, SendToADroppedReceiverGivesFalse) {
  auto [tx, rx] = weft::oneshot::channel<std::unique_ptr<int>>();
  { auto gone = std::move(rx); }
  EXPECT_TRUE(tx.is_closed());
  EXPECT_FALSE(tx.send(std::make_unique<int>(1)));
  EXPECT_THROW(tx.send(std::make_unique<int>(2)), std::logic_error);   // used up
}

TEST(Oneshot, TryRecvAndMisuse) {
  auto rt = single();
  auto body = []() -> task<void> {
    auto [tx, rx] = weft::oneshot::channel<int>();
    EXPECT_EQ(rx.try_recv().error(), weft::oneshot::try_recv_error::empty);
    EXPECT_TRUE(tx.send(5));
    EXPECT_EQ(rx.try_recv().value(), 5);
    EXPECT_EQ(rx.try_recv().error(), weft::oneshot::try_recv_error::closed);
    EXPECT_THROW((void)co_await std::move(rx), std::logic_error);   // already used up
  };
  rt.block_on(body());
}

task<void> await_oneshot(weft::oneshot::receiver<int>* rx, std::atomic<int>* entered) {
  entered->fetch_add(1);
  (void)co_await std::move(*rx);
  ADD_FAILURE() << "the aborted receive completed";
}

TEST(Oneshot, CancelledAwaitLeavesTheValueInTheChannel) {
  auto rt = single();
  auto body = []() -> task<int> {
    auto [tx, rx] = weft::oneshot::channel<int>();
    std::atomic<int> entered{0};
    auto h = weft::spawn(await_oneshot(&rx, &entered));
    while (entered.load() == 0) co_await weft::yield_now();
    h.abort();
    EXPECT_TRUE(tx.send(9));   // wakes the aborted waiter; it must not take the value
    (void)co_await h.join();
    co_return co_await std::move(rx);
  };
  EXPECT_EQ(rt.block_on(body()), 9);
}

// -- mpsc ---------------------------------------------------------------------

TEST(Mpsc, BadCapacityThrows) {
  EXPECT_THROW((void)weft::mpsc::channel<int>(0), std::invalid_argument);
  EXPECT_THROW((void)weft::mpsc::channel<int>(weft::semaphore::max_permits + 1), std::invalid_argument);
}

task<void> send_range(weft::mpsc::sender<int> tx, int from, int to) {
  for (int i = from; i < to; ++i) EXPECT_TRUE(co_await tx.send(i));
}

TEST(Mpsc, RecvGivesMessagesInOrderThenNulloptWhenSendersAreGone) {
  auto rt = multi();
  auto body = []() -> task<std::vector<int>> {
    auto [tx, rx] = weft::mpsc::channel<int>(4);
    auto h = weft::spawn(send_range(tx, 0, 50));   // a copy: two senders now
    { auto last = std::move(tx); }
    std::vector<int> got;
    while (auto v = co_await rx.recv()) got.push_back(*v);
    co_await h;
    EXPECT_EQ(rx.try_recv().error(), weft::mpsc::try_recv_error::disconnected);
    co_return got;
  };
  const auto got = rt.block_on(body());
  ASSERT_EQ(got.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], i);
}

task<void> send_one(weft::mpsc::sender<int>* tx, int v, std::atomic<int>* entered, std::atomic<int>* result) {
  entered->fetch_add(1);
  const bool ok = co_await tx->send(v);
  result->store(ok ? 1 : 0);
}

TEST(Mpsc, SendWaitsWhileFullAndWaitingSendersGoInFifoOrder) {
  auto rt = single();
  auto body = []() -> task<std::vector<int>> {
    auto [tx, rx] = weft::mpsc::channel<int>(2);
    EXPECT_TRUE(co_await tx.send(0));
    EXPECT_TRUE(co_await tx.send(1));
    EXPECT_EQ(tx.capacity(), 0u);
    int three = 3;
    EXPECT_EQ(tx.try_send(std::move(three)).error(), weft::mpsc::try_send_error::full);
    std::atomic<int> entered{0};
    std::atomic<int> r2{-1}, r3{-1};
    auto h2 = weft::spawn(send_one(&tx, 2, &entered, &r2));
    while (entered.load() < 1) co_await weft::yield_now();
    auto h3 = weft::spawn(send_one(&tx, 3, &entered, &r3));
    co_await yield_times(5);
    EXPECT_FALSE(h2.is_finished());
    EXPECT_FALSE(h3.is_finished());
    std::vector<int> got;
    for (int i = 0; i < 4; ++i) got.push_back((co_await rx.recv()).value_or(-1));
    if (!co_await finishes(&h3)) co_return got;
    EXPECT_EQ(r2.load(), 1);
    EXPECT_EQ(r3.load(), 1);
    EXPECT_EQ(tx.capacity(), 2u);
    co_return got;
  };
  EXPECT_EQ(rt.block_on(body()), (std::vector<int>{0, 1, 2, 3}));
}

TEST(Mpsc, TrySendMovesOnlyOnSuccess) {
  auto [tx, rx] = weft::mpsc::channel<std::unique_ptr<int>>(1);
  auto a = std::make_unique<int>(1);
  auto b = std::make_unique<int>(2);
  EXPECT_TRUE(tx.try_send(std::move(a)).has_value());
  EXPECT_EQ(a, nullptr);
  EXPECT_EQ(tx.try_send(std::move(b)).error(), weft::mpsc::try_send_error::full);
  ASSERT_NE(b, nullptr);   // still ours
  EXPECT_EQ(*rx.try_recv().value(), 1);
  EXPECT_EQ(rx.try_recv().error(), weft::mpsc::try_recv_error::empty);
  rx.close();
  EXPECT_TRUE(tx.is_closed());
  EXPECT_EQ(tx.try_send(std::move(b)).error(), weft::mpsc::try_send_error::closed);
  EXPECT_NE(b, nullptr);
}

TEST(Mpsc, ReceiverGoneFailsSendsAndWakesWaitingSenders) {
  auto rt = single();
  auto body = []() -> task<void> {
    auto [tx, rx] = weft::mpsc::channel<int>(1);
    EXPECT_TRUE(co_await tx.send(1));
    std::atomic<int> entered{0};
    std::atomic<int> result{-1};
    auto h = weft::spawn(send_one(&tx, 2, &entered, &result));
    while (entered.load() < 1) co_await weft::yield_now();
    { auto gone = std::move(rx); }   // drops the queued 1, wakes the waiting sender
    if (!co_await finishes(&h)) co_return;
    EXPECT_EQ(result.load(), 0);
    EXPECT_FALSE(co_await tx.send(3));

    auto [utx, urx] = weft::mpsc::unbounded_channel<int>();
    { auto gone = std::move(urx); }
    EXPECT_TRUE(utx.is_closed());
    EXPECT_FALSE(utx.send(1));
  };
  rt.block_on(body());
}

TEST(Mpsc, CloseLetsTheQueueDrain) {
  auto rt = single();
  auto body = []() -> task<std::vector<int>> {
    auto [tx, rx] = weft::mpsc::unbounded_channel<int>();
    EXPECT_TRUE(tx.send(1));
    EXPECT_TRUE(tx.send(2));
    rx.close();
    EXPECT_FALSE(tx.send(3));
    std::vector<int> got;
    while (auto v = co_await rx.recv()) got.push_back(*v);   // senders still exist
    co_return got;
  };
  EXPECT_EQ(rt.block_on(body()), (std::vector<int>{1, 2}));
}

// DESIGN §5 writes `co_await tx.send(v) -> bool` for both kinds of channel:
// generic code awaits either sender's send the same way. The unbounded one
// has queued the value when send() returns; awaiting only reads the bool.
template <class Sender>
task<std::pair<bool, bool>> send_two(Sender& tx, int v) {
  const bool first = co_await tx.send(v);
  const bool second = co_await tx.send(v + 1);
  co_return std::pair{first, second};
}

TEST(Mpsc, SendIsAwaitedTheSameWayOnBothKindsOfChannel) {
  auto rt = single();
  auto body = []() -> task<void> {
    auto [tx, rx] = weft::mpsc::channel<int>(4);
    auto [utx, urx] = weft::mpsc::unbounded_channel<int>();
    EXPECT_EQ(co_await send_two(tx, 1), std::pair(true, true));
    EXPECT_EQ(co_await send_two(utx, 10), std::pair(true, true));
    const auto sent = utx.send(12);   // queued now, whether or not it is awaited
    EXPECT_TRUE(sent);
    EXPECT_EQ(*co_await rx.recv(), 1);
    EXPECT_EQ(*co_await rx.recv(), 2);
    for (int want : {10, 11, 12}) EXPECT_EQ(*co_await urx.recv(), want);
    urx.close();
    EXPECT_FALSE(co_await utx.send(13));
    EXPECT_FALSE(utx.send(14));
  };
  rt.block_on(body());
}

task<int> give(int v) { co_return v; }

// sync.hpp alone (the first include of this file) gives join_set, which
// DESIGN §5 lists with the sync types; nothing else included here has it.
TEST(Sync, JoinSetComesWithSyncHpp) {
  auto rt = multi();
  auto body = []() -> task<int> {
    weft::join_set<int> set;
    for (int i = 1; i <= 3; ++i) set.spawn(give(i));
    int sum = 0;
    while (auto r = co_await set.join_next()) sum += r->value();
    co_return sum;
  };
  EXPECT_EQ(rt.block_on(body()), 6);
}

TEST(Mpsc, UnboundedSendFromBlockingClosuresAndForeignThreads) {
  auto rt = multi();
  auto body = []() -> task<long> {
    auto [tx, rx] = weft::mpsc::unbounded_channel<int>();
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t)
      threads.emplace_back([tx]() mutable {
        for (int i = 1; i <= 1000; ++i) tx.send(i);
      });
    std::vector<join_handle<void>> jobs;
    for (int j = 0; j < 2; ++j)
      jobs.push_back(weft::spawn_blocking([tx]() mutable {
        for (int i = 1; i <= 1000; ++i) tx.send(i);
      }));
    { auto last = std::move(tx); }
    long sum = 0;
    int count = 0;
    while (auto v = co_await rx.recv()) {
      sum += *v;
      ++count;
    }
    for (auto& t : threads) t.join();
    for (auto& j : jobs) co_await j;
    EXPECT_EQ(count, 4000);
    co_return sum;
  };
  EXPECT_EQ(rt.block_on(body()), 4L * 500500);
}

task<void> recv_one(weft::mpsc::receiver<int>* rx, std::atomic<int>* entered) {
  entered->fetch_add(1);
  (void)co_await rx->recv();
  ADD_FAILURE() << "the aborted recv completed";
}

TEST(Mpsc, RecvCancelledByAbortConsumesNoMessage) {
  auto rt = single();
  auto body = []() -> task<std::vector<int>> {
    auto [tx, rx] = weft::mpsc::channel<int>(4);
    std::atomic<int> entered{0};
    auto h = weft::spawn(recv_one(&rx, &entered));
    while (entered.load() < 1) co_await weft::yield_now();
    h.abort();
    EXPECT_TRUE(co_await tx.send(1));   // wakes the aborted recv before its frame dies
    EXPECT_TRUE(co_await tx.send(2));
    auto joined = co_await h.join();
    EXPECT_TRUE(!joined && joined.error().is_cancelled());
    { auto last = std::move(tx); }
    std::vector<int> got;
    while (auto v = co_await rx.recv()) got.push_back(*v);
    co_return got;
  };
  EXPECT_EQ(rt.block_on(body()), (std::vector<int>{1, 2}));
}

TEST(Mpsc, RecvCancelledByTimeoutConsumesNoMessage) {
  auto rt = multi();
  auto body = []() -> task<int> {
    auto [tx, rx] = weft::mpsc::unbounded_channel<int>();
    auto none = co_await weft::timeout(5ms, rx.recv());
    EXPECT_FALSE(none.has_value());
    // Race timeouts against a producer on another worker: every message
    // must arrive exactly once.
    std::thread producer([sender = tx]() mutable {
      for (int i = 1; i <= 2000; ++i) sender.send(i);
    });
    { auto last = std::move(tx); }
    int count = 0;
    long sum = 0;
    for (;;) {
      auto r = co_await weft::timeout(std::chrono::microseconds(count % 7), rx.recv());
      if (!r) continue;
      if (!*r) break;
      ++count;
      sum += **r;
    }
    producer.join();
    EXPECT_EQ(sum, 2000L * 2001 / 2);
    co_return count;
  };
  EXPECT_EQ(rt.block_on(body()), 2000);
}

TEST(Mpsc, SlotGrantedToACancelledSendPassesOn) {
  auto rt = single();
  auto body = []() -> task<std::vector<int>> {
    auto [tx, rx] = weft::mpsc::channel<int>(1);
    EXPECT_TRUE(co_await tx.send(1));
    std::atomic<int> entered{0};
    std::atomic<int> ra{-1}, rb{-1};
    auto a = weft::spawn(send_one(&tx, 2, &entered, &ra));
    while (entered.load() < 1) co_await weft::yield_now();
    auto b = weft::spawn(send_one(&tx, 3, &entered, &rb));
    while (entered.load() < 2) co_await weft::yield_now();
    a.abort();
    std::vector<int> got;
    got.push_back((co_await rx.recv()).value_or(-1));   // frees the slot: granted to a, passed to b
    if (!co_await finishes(&b)) co_return got;
    (void)co_await a.join();
    EXPECT_EQ(ra.load(), -1);
    EXPECT_EQ(rb.load(), 1);
    got.push_back((co_await rx.recv()).value_or(-1));
    EXPECT_EQ(rx.try_recv().error(), weft::mpsc::try_recv_error::empty);
    EXPECT_EQ(tx.capacity(), 1u);   // no slot leaked
    EXPECT_TRUE(tx.try_send(4).has_value());   // full again, so the timed send waits
    auto full = co_await weft::timeout(5ms, tx.send(5));
    EXPECT_FALSE(full.has_value());   // 5 was not sent, and its slot request left
    got.push_back((co_await rx.recv()).value_or(-1));
    EXPECT_EQ(tx.capacity(), 1u);
    co_return got;
  };
  EXPECT_EQ(rt.block_on(body()), (std::vector<int>{1, 3, 4}));
}

TEST(Mpsc, OwningValuesThroughSendAndTimeout) {
  auto rt = multi();
  auto body = []() -> task<std::vector<std::string>> {
    auto [tx, rx] = weft::mpsc::channel<std::string>(1);
    const std::string long_text(100, 'x');   // heap-allocated: a double destruction would show
    EXPECT_TRUE(co_await tx.send(long_text + "1"));
    auto expired = co_await weft::timeout(5ms, tx.send(long_text + "2"));   // full: dropped
    EXPECT_FALSE(expired.has_value());
    std::vector<std::string> got;
    got.push_back((co_await rx.recv()).value_or(""));
    auto sent = co_await weft::timeout(weft::test::max_wait, tx.send(long_text + "3"));
    EXPECT_TRUE(sent.has_value() && *sent);
    got.push_back((co_await rx.recv()).value_or(""));
    co_return got;
  };
  const std::string long_text(100, 'x');
  EXPECT_EQ(rt.block_on(body()), (std::vector<std::string>{long_text + "1", long_text + "3"}));
}

// -- broadcast ----------------------------------------------------------------

TEST(Broadcast, EveryReceiverGetsEveryValueInOrder) {
  auto rt = single();
  auto body = []() -> task<void> {
    auto [tx, rx1] = weft::broadcast::channel<std::string>(8);
    EXPECT_THROW((void)weft::broadcast::channel<int>(0), std::invalid_argument);
    auto rx2 = tx.subscribe();
    EXPECT_EQ(tx.num_receivers(), 2u);
    EXPECT_EQ(tx.send("a"), 2u);
    auto late = tx.subscribe();   // sees only what comes next
    EXPECT_EQ(tx.send("b"), 3u);
    EXPECT_EQ((co_await rx1.recv()).value(), "a");
    EXPECT_EQ((co_await rx1.recv()).value(), "b");
    EXPECT_EQ((co_await rx2.recv()).value(), "a");
    EXPECT_EQ((co_await rx2.recv()).value(), "b");
    EXPECT_EQ(late.size(), 1u);
    EXPECT_EQ((co_await late.recv()).value(), "b");
    EXPECT_TRUE(late.try_recv().error().is_empty());
    { auto gone = std::move(tx); }
    EXPECT_EQ((co_await rx1.recv()).error(), weft::broadcast::recv_error::closed());
  };
  rt.block_on(body());
}

TEST(Broadcast, LaggingReceiverIsToldHowManyItMissed) {
  auto rt = single();
  auto body = []() -> task<void> {
    auto [tx, rx] = weft::broadcast::channel<int>(2);
    for (int i = 0; i < 5; ++i) tx.send(i);
    auto first = co_await rx.recv();
    if (first.has_value()) {
      ADD_FAILURE() << "expected lagged, got " << *first;
      co_return;
    }
    EXPECT_TRUE(first.error().is_lagged());
    EXPECT_EQ(first.error().num_skipped(), 3u);
    EXPECT_EQ((co_await rx.recv()).value(), 3);
    EXPECT_EQ((co_await rx.recv()).value(), 4);
    EXPECT_TRUE(rx.try_recv().error().is_empty());
  };
  rt.block_on(body());
}

TEST(Broadcast, SendWithNoReceiversDropsTheValue) {
  auto [tx, rx] = weft::broadcast::channel<int>(4);
  { auto gone = std::move(rx); }
  EXPECT_EQ(tx.send(1), 0u);
  auto rx2 = tx.subscribe();
  EXPECT_TRUE(rx2.try_recv().error().is_empty());
}

task<long> sum_broadcast(weft::broadcast::receiver<int> rx) {
  long sum = 0;
  for (;;) {
    auto v = co_await rx.recv();
    if (v) sum += *v;
    else if (v.error().is_closed()) co_return sum;
    else ADD_FAILURE() << "lagged by " << v.error().num_skipped();
  }
}

TEST(Broadcast, WaitingReceiversOnManyWorkersAreWoken) {
  auto rt = multi();
  auto body = []() -> task<void> {
    auto [tx, rx] = weft::broadcast::channel<int>(1024);
    std::vector<join_handle<long>> hs;
    for (int i = 0; i < 6; ++i) hs.push_back(weft::spawn(sum_broadcast(tx.subscribe())));
    hs.push_back(weft::spawn(sum_broadcast(std::move(rx))));
    for (int i = 1; i <= 1000; ++i) {
      tx.send(i);
      if (i % 100 == 0) co_await weft::yield_now();
    }
    { auto gone = std::move(tx); }
    for (auto& h : hs) EXPECT_EQ(co_await h, 500500L);
  };
  rt.block_on(body());
}

task<void> broadcast_recv_one(weft::broadcast::receiver<int>* rx, std::atomic<int>* entered) {
  entered->fetch_add(1);
  (void)co_await rx->recv();
  ADD_FAILURE() << "the aborted recv completed";
}

TEST(Broadcast, CancelledRecvConsumesNothing) {
  auto rt = single();
  auto body = []() -> task<std::vector<int>> {
    auto [tx, rx] = weft::broadcast::channel<int>(4);
    std::atomic<int> entered{0};
    auto h = weft::spawn(broadcast_recv_one(&rx, &entered));
    while (entered.load() < 1) co_await weft::yield_now();
    h.abort();
    tx.send(1);
    (void)co_await h.join();
    auto expired = co_await weft::timeout(5ms, rx.recv());
    EXPECT_TRUE(expired.has_value());   // 1 is there: completes at once
    std::vector<int> got{expired.has_value() ? expired->value_or(-1) : -1};
    auto none = co_await weft::timeout(5ms, rx.recv());
    EXPECT_FALSE(none.has_value());
    tx.send(2);
    got.push_back((co_await rx.recv()).value_or(-1));
    co_return got;
  };
  EXPECT_EQ(rt.block_on(body()), (std::vector<int>{1, 2}));
}

// -- watch --------------------------------------------------------------------

TEST(Watch, BorrowSeesTheLatestValue) {
  auto [tx, rx] = weft::watch::channel(std::string("initial"));
  EXPECT_EQ(*rx.borrow(), "initial");
  EXPECT_FALSE(rx.has_changed());
  EXPECT_TRUE(tx.send("one"));
  EXPECT_TRUE(rx.has_changed());
  EXPECT_EQ(rx.borrow()->size(), 3u);
  EXPECT_TRUE(rx.has_changed());   // borrow() does not mark it seen
  EXPECT_EQ(*rx.borrow_and_update(), "one");
  EXPECT_FALSE(rx.has_changed());
  EXPECT_EQ(*tx.borrow(), "one");
  auto sub = tx.subscribe();
  EXPECT_FALSE(sub.has_changed());   // a new receiver has seen the current value
  { auto gone = std::move(rx); }
  { auto gone = std::move(sub); }
  EXPECT_TRUE(tx.is_closed());
  EXPECT_FALSE(tx.send("two"));   // stored anyway
  EXPECT_EQ(*tx.subscribe().borrow(), "two");
}

task<int> count_changes(weft::watch::receiver<int> rx, int last) {
  int changes = 0;
  while (co_await rx.changed()) {
    ++changes;
    if (*rx.borrow() == last) break;
  }
  co_return changes;
}

TEST(Watch, ChangedWakesEveryWaiterAndCoalesces) {
  auto rt = single();
  auto body = []() -> task<void> {
    auto [tx, rx] = weft::watch::channel(0);
    std::vector<join_handle<int>> hs;
    for (int i = 0; i < 3; ++i) hs.push_back(weft::spawn(count_changes(rx, 2)));
    co_await yield_times(3);
    tx.send(1);
    tx.send(2);   // both before the waiters run: they see one change
    for (auto& h : hs) EXPECT_EQ(co_await h, 1);
  };
  rt.block_on(body());
}

TEST(Watch, ChangedGivesFalseOnceTheSenderIsGone) {
  auto rt = multi();
  auto body = []() -> task<void> {
    auto [tx, rx] = weft::watch::channel(0);
    tx.send(5);
    { auto gone = std::move(tx); }
    EXPECT_TRUE(co_await rx.changed());   // the unseen 5 first
    EXPECT_EQ(*rx.borrow(), 5);
    EXPECT_FALSE(co_await rx.changed());
  };
  rt.block_on(body());
}

task<void> watch_changed_once(weft::watch::receiver<int>* rx, std::atomic<int>* entered) {
  entered->fetch_add(1);
  (void)co_await rx->changed();
  ADD_FAILURE() << "the aborted changed() completed";
}

TEST(Watch, CancelledChangedMarksNothingSeen) {
  auto rt = single();
  auto body = []() -> task<void> {
    auto [tx, rx] = weft::watch::channel(0);
    auto expired = co_await weft::timeout(5ms, rx.changed());
    EXPECT_FALSE(expired.has_value());
    std::atomic<int> entered{0};
    auto h = weft::spawn(watch_changed_once(&rx, &entered));
    while (entered.load() < 1) co_await weft::yield_now();
    h.abort();
    tx.send(7);
    (void)co_await h.join();
    EXPECT_TRUE(rx.has_changed());
    EXPECT_TRUE(co_await rx.changed());   // at once
    EXPECT_EQ(*rx.borrow(), 7);
  };
  rt.block_on(body());
}

// -- handles ------------------------------------------------------------------

TEST(Channels, HandlesMoveCopyAndAssign) {
  auto [otx, orx] = weft::oneshot::channel<int>();
  auto [otx2, orx2] = weft::oneshot::channel<int>();
  otx2 = std::move(otx);   // the replaced sender closes its channel
  EXPECT_EQ(orx2.try_recv().error(), weft::oneshot::try_recv_error::closed);
  orx2 = std::move(orx);
  EXPECT_TRUE(otx2.send(3));
  EXPECT_EQ(orx2.try_recv().value(), 3);

  auto [tx, rx] = weft::mpsc::channel<int>(2);
  auto tx2 = tx;
  tx2 = tx;
  const int two = 2;
  EXPECT_TRUE(tx2.try_send(1).has_value());
  EXPECT_TRUE(tx.try_send(two).has_value());
  EXPECT_EQ(tx.max_capacity(), 2u);
  auto [tx3, rx3] = weft::mpsc::channel<int>(1);
  rx3 = std::move(rx);   // the replaced receiver closes its channel
  EXPECT_TRUE(tx3.is_closed());
  EXPECT_EQ(rx3.try_recv().value(), 1);
  EXPECT_EQ(rx3.try_recv().value(), 2);
  auto [utx, urx] = weft::mpsc::unbounded_channel<int>();
  auto utx2 = utx;
  utx2 = utx;
  EXPECT_TRUE(utx2.send(4));
  EXPECT_EQ(urx.try_recv().value(), 4);

  auto [btx, brx] = weft::broadcast::channel<int>(2);
  auto btx2 = btx;
  btx2 = btx;
  auto brx2 = brx.resubscribe();
  EXPECT_EQ(btx2.send(5), 2u);
  brx = std::move(brx2);
  EXPECT_EQ(btx.num_receivers(), 1u);
  EXPECT_EQ(brx.try_recv().value(), 5);

  auto [wtx, wrx] = weft::watch::channel(0);
  auto wrx2 = wrx;
  wrx2 = wrx;
  auto [wtx2, wrx3] = weft::watch::channel(10);
  wtx2 = std::move(wtx);   // the replaced sender closes its channel
  EXPECT_TRUE(wtx2.send(1));
  EXPECT_TRUE(wrx2.has_changed());
  EXPECT_EQ(*wrx.borrow(), 1);
  EXPECT_EQ(*wrx3.borrow(), 10);
}

}  // namespace

// SPDX-License-Identifier: MIT
// Blocking calls on an async worker (DESIGN §3): block_on of any runtime and
// join_handle::wait()/get() throw std::logic_error there, as Tokio panics on
// a nested runtime; on a blocking-pool thread or a plain thread they work.
#include <weft/runtime.hpp>   // first: proves the header is self-contained

#include <weft/spawn.hpp>

#include "weft_task_helpers.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>

namespace {

using weft::runtime;
using weft::task;

task<int> one() { co_return 1; }

runtime make(int flavor) {
  switch (flavor) {
  case 0: return runtime::builder::current_thread().build();
  case 1: return runtime::builder::multi_thread().worker_threads(1).build();
  default: return runtime::builder::multi_thread().worker_threads(2).build();
  }
}

/// What block_on of a fresh runtime of flavor `inner` says when called from a task.
task<std::string> nested_block_on(int inner) {
  runtime other = make(inner);
  try {
    other.block_on(one());
  } catch (const std::logic_error& e) {
    co_return e.what();
  }
  co_return "no error";
}

// Tokio's rt_common::nested_rt, every pair of flavors: it used to run the
// inner runtime on the outer worker, blocking it.
TEST(NestedRuntime, BlockOnOfAnotherRuntimeOnAWorkerThrows) {
  for (int outer = 0; outer < 3; ++outer) {
    for (int inner = 0; inner < 3; ++inner) {
      runtime rt = make(outer);
      const std::string what = rt.block_on(nested_block_on(inner));
      EXPECT_NE(what.find("cannot block an async worker"), std::string::npos)
          << "outer " << outer << ", inner " << inner << ": " << what;
    }
  }
}

TEST(NestedRuntime, BlockOnIsAllowedOnABlockingThread) {
  for (int outer = 0; outer < 3; ++outer) {
    runtime rt = make(outer);
    auto body = []() -> task<int> {
      co_return co_await weft::spawn_blocking([] {
        runtime other = runtime::builder::current_thread().build();
        const int a = other.block_on(one());
        // ...and the handle of the runtime this thread belongs to.
        return a + weft::handle::current().block_on(one());
      });
    };
    EXPECT_EQ(rt.block_on(body()), 2) << "outer " << outer;
  }
}

TEST(NestedRuntime, BlockOnIsAllowedOnAPlainThreadAfterBlockOnReturned) {
  runtime a = make(0);
  runtime b = make(1);
  EXPECT_EQ(a.block_on(one()), 1);
  EXPECT_EQ(b.block_on(one()), 1);   // the thread is no worker once block_on returned
  int from_thread = 0;
  std::thread plain([&] { from_thread = b.block_on(one()); });
  plain.join();
  EXPECT_EQ(from_thread, 1);
}

// Issue 10, item 9: wait()/get() on a worker deadlocked when the task
// needed that worker.
TEST(NestedRuntime, JoinHandleWaitAndGetOnAWorkerThrow) {
  for (int outer = 0; outer < 3; ++outer) {
    runtime rt = make(outer);
    auto body = []() -> task<int> {
      int thrown = 0;
      auto h1 = weft::spawn(one());
      try {
        (void)h1.wait();
      } catch (const std::logic_error&) {
        ++thrown;
      }
      auto h2 = weft::spawn(one());
      try {
        (void)h2.get();
      } catch (const std::logic_error&) {
        ++thrown;
      }
      // The handles are still usable the async way.
      thrown += co_await h1 + co_await h2 - 2;
      co_return thrown;
    };
    EXPECT_EQ(rt.block_on(body()), 2) << "outer " << outer;
  }
}

TEST(NestedRuntime, JoinHandleGetOnABlockingThreadWorks) {
  runtime rt = make(2);
  auto body = []() -> task<int> {
    auto h = weft::spawn(one());
    // Named first: g++ 12 destroys a capturing lambda temporary inside a
    // co_await expression twice (STYLE §10).
    auto job = weft::spawn_blocking([h = std::move(h)]() mutable { return h.get(); });
    co_return co_await job;
  };
  EXPECT_EQ(rt.block_on(body()), 1);
}

}  // namespace

// SPDX-License-Identifier: MIT
// Absurd builder values fail at build() (issue 10, item 7).
#include <weft/runtime.hpp>   // first: proves the header is self-contained

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>

namespace {

using weft::runtime;

// worker_threads(SIZE_MAX) used to allocate worker records until memory ran out.
TEST(RuntimeLimits, WorkerThreadsAboveTheBoundFailAtBuild) {
  for (std::size_t n : {std::size_t{4097}, std::size_t{1} << 20, SIZE_MAX}) {
    auto builder = runtime::builder::multi_thread().worker_threads(n);
    EXPECT_THROW((void)builder.build(), std::invalid_argument) << n;
  }
}

TEST(RuntimeLimits, ManyWorkersUpToTheBoundAreAllowed) {
  auto rt = runtime::builder::multi_thread().worker_threads(64).build();
  EXPECT_EQ(rt.metrics().workers, 64u);
}

}  // namespace

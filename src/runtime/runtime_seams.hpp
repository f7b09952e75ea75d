// SPDX-License-Identifier: MIT
#pragma once
// Test seams of a runtime: faults no public setting can cause. Made with
// detail::access::make_runtime (weft/detail/access.hpp).
#include <functional>

namespace weft::detail {

struct runtime_seams {
  /// An errno with which to refuse a blocking-thread start (0 = start it);
  /// every pool of the runtime asks it.
  std::function<int()> inject_thread_spawn_failure;
};

}  // namespace weft::detail

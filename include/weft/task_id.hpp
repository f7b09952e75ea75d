// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::task_id`: how join handles, errors and diagnostics name a task.

#include <cstdint>

namespace weft {

/// Identifies a task — async or blocking — for the life of the process: ids
/// are never reused, and 0 names no task (an empty join_handle's id()).
using task_id = std::uint64_t;

}  // namespace weft

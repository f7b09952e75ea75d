// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The whole of weft in one include (opt-in; weft itself includes only what
/// each file needs).

#include <weft/diagnostics.hpp>
#include <weft/fs.hpp>
#include <weft/join_error.hpp>
#include <weft/join_handle.hpp>
#include <weft/join_set.hpp>
#include <weft/net.hpp>
#include <weft/pool.hpp>
#include <weft/pool_options.hpp>
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/sync.hpp>
#include <weft/task.hpp>
#include <weft/task_id.hpp>
#include <weft/time.hpp>
#include <weft/version.hpp>
// OS integration (DESIGN §10).
#include <weft/signal.hpp>
#include <weft/process.hpp>
#include <weft/combinators.hpp>

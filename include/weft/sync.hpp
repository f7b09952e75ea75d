// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Shared state and message passing between tasks: `mutex`, `semaphore`,
/// `notify`, the channels `oneshot`, `mpsc`, `broadcast` and `watch`, and
/// `join_set` (weft/join_set.hpp, which DESIGN §5 lists with them).
///
/// Every waiting operation here follows the same rules:
/// * Resumes on: at once, on the awaiting thread, if it can complete
///   without waiting; otherwise a worker of the runtime, woken by the call
///   that completed it — never inline inside unlock(), send() or notify.
/// * Hand-over before wake-up (as Tokio): a task resumed from lock(),
///   acquire() or a full channel's send() already owns what it waited for,
///   and a woken recv() finds its message there; nothing is retried.
/// * Cancel safety: an operation cancelled before it completes (its frame
///   destroyed by join_handle::abort() or weft::timeout) loses nothing — a
///   cancelled recv consumes no message, a cancelled acquire returns its
///   permits, a lock handed to a waiter that is cancelled passes on to the
///   next, a notify_one handed to one passes on too.
/// * Every operation object (`m.lock()`, `rx.recv()`, ...) is movable until
///   awaited, so it can be passed to weft::timeout.

#include <weft/channel_closed.hpp>
#include <weft/join_set.hpp>
#include <weft/sync/broadcast.hpp>
#include <weft/sync/mpsc.hpp>
#include <weft/sync/mutex.hpp>
#include <weft/sync/notify.hpp>
#include <weft/sync/oneshot.hpp>
#include <weft/sync/semaphore.hpp>
#include <weft/sync/watch.hpp>

// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::ctrl_c` and `weft::signal_listener`: Unix signals as awaitable
/// events, delivered through the runtime's I/O driver (Tokio's
/// tokio::signal::ctrl_c and unix::signal).
///
/// A signal is caught by an async-signal-safe handler that bumps a
/// per-signal delivery counter and writes to an eventfd the reactor polls;
/// a listener wakes, compares the counter with the deliveries it has seen,
/// and completes. signalfd alone is not used: it misses a signal delivered
/// to a thread that does not block it (the main thread, a library's thread).
///
/// There is deliberately no `weft::signal` namespace: the C library's
/// signal() stays usable after `using namespace weft`.

#include <weft/task.hpp>

#include <cstdint>
#include <memory>

namespace weft {

namespace detail {
class signal_listener_state;
}

/// Receives the deliveries of one signal.
///
/// The process-wide handler for the signal is installed when the listener is
/// created (on()), not when it is first awaited, so a signal that arrives
/// between on() and recv() is kept. Every listener of a signal sees every
/// delivery; deliveries a listener has not yet received coalesce into one
/// (as Tokio). While any listener of a signal exists, the signal no longer
/// has its previous effect (SIGINT no longer ends the process); when the
/// last listener of that signal is destroyed, the disposition the process
/// had before the first one is restored.
///
/// Move-only.
/// Thread safety: distinct listeners may be used on any threads; one
/// listener is awaited by one task at a time.
///
/// Example:
///     auto hangup = weft::signal_listener::on(SIGHUP);
///     for (;;) {
///       co_await hangup.recv();
///       reload_config();
///     }
class signal_listener {
public:
  /// Installs weft's handler for `signo` (if no listener of it exists yet)
  /// and makes a listener that has seen every delivery so far. May be called
  /// outside a runtime; recv() must be awaited inside one.
  /// Errors: std::invalid_argument for SIGKILL, SIGSTOP, the signals a
  /// handler cannot return from (SIGILL, SIGFPE, SIGSEGV, as Tokio), a number
  /// out of range, or one the C library reserves; std::system_error if the
  /// self-pipe (an eventfd) cannot be created.
  static signal_listener on(int signo);

  /// Moves the listener; `other` is left moved-from.
  signal_listener(signal_listener&& other) noexcept;
  /// Takes `other`'s listener; the listener this one was is destroyed (see
  /// the destructor).
  signal_listener& operator=(signal_listener&& other) noexcept;
  signal_listener(const signal_listener&) = delete;
  signal_listener& operator=(const signal_listener&) = delete;
  /// Restores the previous disposition if this was the signal's last listener.
  ~signal_listener();

  /// Completes at the next delivery this listener has not yet received — at
  /// once if one arrived since on() or since the last recv(). Several pending
  /// deliveries complete one recv().
  ///
  /// Resumes on: the awaiting thread if a delivery is pending; otherwise a
  /// worker of the runtime, after the reactor saw the handler's wake-up.
  /// Cancellation: cancel-safe: a cancelled recv() consumes no delivery. A
  /// runtime shut down while a task waits here cancels that task.
  /// Errors: std::logic_error on a moved-from listener or outside a weft
  /// task; weft::no_runtime outside a runtime; std::system_error if the
  /// reactor refuses the registration.
  [[nodiscard]] task<void> recv();

  /// The signal number.
  int signo() const noexcept;

private:
  explicit signal_listener(std::unique_ptr<detail::signal_listener_state> state) noexcept;
  std::unique_ptr<detail::signal_listener_state> state_;
};

/// Completes at the next SIGINT (Ctrl-C in a terminal). The handler is
/// installed when ctrl_c() is called, so a SIGINT between the call and the
/// first await is kept; while the returned task lives, SIGINT does not end
/// the process.
///
/// Resumes on: a worker of the runtime (see signal_listener::recv).
/// Cancellation: destroying the task removes its listener; with no other
/// SIGINT listener, SIGINT ends the process again.
/// Errors: as signal_listener::on and recv.
///
/// Example:
///     auto server = weft::spawn(serve(listener));
///     co_await weft::ctrl_c();
///     server.abort();   // shut down cleanly
[[nodiscard]] task<void> ctrl_c();

}  // namespace weft

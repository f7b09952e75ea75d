// SPDX-License-Identifier: MIT
#pragma once
// The process-wide signal state behind weft::signal_listener: per-signal
// delivery counters, installed handlers and the wake-up eventfd (see
// signal_registry.cpp for the design).
#include <cstdint>

namespace weft::detail::signals {

/// Adds a listener of `signo`: validates it, installs weft's handler if it
/// is the first listener, and gives the deliveries counted so far.
/// Errors: std::invalid_argument (see signal_listener::on); std::system_error
/// if the eventfd or sigaction fails.
std::uint64_t add_listener(int signo);

/// Removes one; the last listener of `signo` restores the disposition the
/// process had before the first.
void remove_listener(int signo) noexcept;

/// Deliveries of `signo` counted since the process started. acquire: pairs
/// with the handler's increment.
std::uint64_t deliveries(int signo) noexcept;

/// The eventfd the handler writes to (non-blocking, close-on-exec), valid
/// once add_listener succeeded. Readers dup it to register with their reactor.
int wake_fd() noexcept;

/// Listeners of `signo` now (tests).
int num_listeners(int signo) noexcept;

}  // namespace weft::detail::signals

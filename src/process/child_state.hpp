// SPDX-License-Identifier: MIT
#pragma once
// One child process as the runtime sees it: its pid, its pidfd on the
// reactor (or none: the SIGCHLD fallback), and its exit status once reaped.
// See child_state.cpp for reaping, the fallback and background reaping.
#include <weft/process.hpp>
#include <weft/runtime.hpp>

#include <memory>
#include <optional>
#include <string>

#include <sys/types.h>

namespace weft::process::detail {

class child_state {
public:
  /// Takes over the child `pid` just spawned from `program` (named in
  /// errors) and watches its exit with a pidfd on the reactor of `runtime`
  /// (the current one), or with SIGCHLD if pidfd_open is missing (ENOSYS).
  /// Errors: std::system_error if the pidfd cannot be opened or registered
  /// (e.g. EMFILE); the child is then killed and reaped before the throw.
  child_state(pid_t pid, std::string program, handle runtime);
  child_state(const child_state&) = delete;
  child_state& operator=(const child_state&) = delete;
  ~child_state() = default;

  pid_t pid() const noexcept { return pid_; }
  const std::optional<exit_status>& status() const noexcept { return status_; }

  /// Reaps the child if it has exited: 0 (status() set), or -1 with errno
  /// EAGAIN (still running) or the waitid error.
  int try_reap() noexcept;
  /// Waits for the exit; see child::wait.
  task<exit_status> wait();
  /// SIGKILL unless reaped; see child::kill.
  void kill();

  /// Hands a child nobody will wait for to the background: reaped now if it
  /// has exited, else by a task on its runtime (or, if that runtime is gone,
  /// by a later reap_orphans()).
  static void reap_in_background(std::unique_ptr<child_state> state) noexcept;
  /// Reaps the children whose background task could not run (their runtime
  /// shut down first) and that have exited since. Called by every spawn and
  /// every child destruction.
  static void reap_orphans() noexcept;

private:
  pid_t pid_;
  std::string program_;
  weft::detail::io_object pidfd_;   // empty: SIGCHLD fallback
  std::optional<exit_status> status_;
  handle runtime_;                  // where the background reaper runs
};

/// Tests: make pidfd_open report ENOSYS, so that new children use the
/// SIGCHLD fallback (true) or not (false).
void force_sigchld_fallback(bool on) noexcept;

}  // namespace weft::process::detail

// SPDX-License-Identifier: MIT
// Reaping children.
//
// # Exit through a pidfd
// pidfd_open(pid) (Linux 5.3) gives a descriptor that polls readable once
// the child has exited. It is registered with the reactor like a socket, and
// wait() is one async_io loop whose operation is waitid(P_PID, pid, WEXITED |
// WNOHANG): "would block" while the child runs. The zombie is only reaped by
// that waitid, so the pid cannot be reused while we hold it, and kill() goes
// through pidfd_send_signal (5.1) anyway.
//
// # SIGCHLD fallback
// Where pidfd_open fails with ENOSYS, wait() listens for SIGCHLD
// (signal_listener, created before the first waitid so that an exit between
// the two is kept) and tries waitid after each delivery. Only this child's
// pid is ever waited for — never waitpid(-1) — so other children of the
// process (the user's, another library's) are left alone.
//
// # Background reaping
// A child destroyed unwaited is reaped now if it has exited, else by a task
// spawned on the runtime that spawned it, which owns the state and awaits
// wait(). If that task cannot run to the end (its runtime shut down first),
// its frame's guard puts the pid on a process-wide orphan list, which every
// later spawn and child destruction sweeps with waitid(WNOHANG) — Tokio's
// orphan queue. No thread is started per child.
#include "process/child_state.hpp"

#include "io/async_io.hpp"

#include <weft/join_handle.hpp>
#include <weft/signal.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace weft::process::detail {

namespace {

std::atomic<bool> pretend_no_pidfd{false};   // tests only; relaxed: read at each spawn

int pidfd_open(pid_t pid) noexcept {
  if (pretend_no_pidfd.load(std::memory_order_relaxed)) {
    errno = ENOSYS;
    return -1;
  }
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

/// waitid(P_PID, WNOHANG) decoded: 0 with `out` set, -1 with errno (EAGAIN: running).
int reap(pid_t pid, std::optional<exit_status>& out) noexcept {
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG) != 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (info.si_pid == 0) {
      errno = EAGAIN;
      return -1;
    }
    exit_status status;
    if (info.si_code == CLD_EXITED) status.code = info.si_status;
    else status.signal = info.si_status;   // CLD_KILLED, CLD_DUMPED
    out = status;
    return 0;
  }
}

std::mutex& orphans_mutex() {
  static std::mutex m;
  return m;
}
std::vector<pid_t>& orphans() {   // guarded by orphans_mutex()
  static std::vector<pid_t> list;
  return list;
}

void add_orphan(pid_t pid) noexcept {
  try {
    std::lock_guard lock(orphans_mutex());
    orphans().push_back(pid);
  } catch (...) {
    // Swallowed: out of memory; this child stays a zombie until the process exits.
  }
}

/// The background reaper's parameter: owns the state, and if it is
/// destroyed before the child was reaped — the reaper's frame destroyed by
/// a runtime shutdown, or never run because the runtime was already shut
/// down — reaps it now if it has exited, else puts it on the orphan list.
/// A parameter, not a local, so that it acts even if the body never starts.
class orphan_owner {
public:
  explicit orphan_owner(std::unique_ptr<child_state> state) noexcept : state_(std::move(state)) {}
  orphan_owner(const orphan_owner&) = delete;
  orphan_owner& operator=(const orphan_owner&) = delete;
  orphan_owner(orphan_owner&&) noexcept = default;
  orphan_owner& operator=(orphan_owner&&) = delete;
  ~orphan_owner() {
    if (!state_ || state_->try_reap() == 0 || errno != EAGAIN) return;
    add_orphan(state_->pid());
  }
  child_state& operator*() const noexcept { return *state_; }

private:
  std::unique_ptr<child_state> state_;
};

task<void> reap_later(orphan_owner owner) {
  try {
    (void)co_await (*owner).wait();
  } catch (...) {
    // Swallowed: ECHILD means someone else reaped it; after any other error
    // the owner's destructor reaps the child or puts it on the orphan list.
  }
}

}  // namespace

void force_sigchld_fallback(bool on) noexcept { pretend_no_pidfd.store(on, std::memory_order_relaxed); }

child_state::child_state(pid_t pid, std::string program, handle runtime)
    : pid_(pid), program_(std::move(program)), runtime_(std::move(runtime)) {
  const int fd = pidfd_open(pid);
  if (fd >= 0) {
    try {
      pidfd_ = weft::detail::io_object(fd);
      return;
    } catch (const std::system_error& e) {
      errno = e.code().value();
    }
  }
  if (errno == ENOSYS) return;   // SIGCHLD fallback
  // Out of descriptors (or epoll refused): do not leave a child we cannot watch.
  const int error = errno;
  ::kill(pid_, SIGKILL);
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED) != 0 && errno == EINTR) {}
  weft::detail::throw_io_error(error, "weft::process::command::spawn: pidfd_open", program_);
}

int child_state::try_reap() noexcept {
  if (status_) return 0;
  return reap(pid_, status_);
}

task<exit_status> child_state::wait() {
  if (status_) co_return *status_;
  if (pidfd_.is_open()) {
    // async_io returns once try_reap() gave 0, so status_ is set after one pass.
    while (!status_)
      co_await weft::detail::async_io<int>(
          &pidfd_.reg(), weft::detail::direction::read, "weft::process::child::wait", [this] { return try_reap(); },
          program_);
    co_return *status_;
  }
  auto sigchld = signal_listener::on(SIGCHLD);   // before the first try: an exit in between is kept
  while (!status_) {
    if (try_reap() != 0) {
      if (errno != EAGAIN) weft::detail::throw_io_error(errno, "weft::process::child::wait", program_);
      co_await sigchld.recv();
    }
  }
  co_return *status_;
}

void child_state::kill() {
  if (status_) return;
#ifdef SYS_pidfd_send_signal
  if (pidfd_.is_open()) {
    if (::syscall(SYS_pidfd_send_signal, pidfd_.fd(), SIGKILL, nullptr, 0) == 0) return;
    if (errno == ESRCH) return;   // already exited
    if (errno != ENOSYS) weft::detail::throw_io_error(errno, "weft::process::child::kill", program_);
  }
#endif
  // Not reaped yet, so the pid is still this child's (a zombie at worst).
  if (::kill(pid_, SIGKILL) != 0 && errno != ESRCH)
    weft::detail::throw_io_error(errno, "weft::process::child::kill", program_);
}

void child_state::reap_in_background(std::unique_ptr<child_state> state) noexcept {
  reap_orphans();
  if (state->try_reap() == 0 || errno != EAGAIN) return;
  handle runtime = state->runtime_;
  try {
    auto reaper = runtime.spawn(reap_later(orphan_owner(std::move(state))));   // detached
  } catch (...) {
    // Swallowed: the task could not be made; its frame, and the orphan_owner
    // in it, have been destroyed, which put the child on the orphan list.
  }
}

void child_state::reap_orphans() noexcept {
  std::lock_guard lock(orphans_mutex());
  auto& list = orphans();
  std::erase_if(list, [](pid_t pid) {
    std::optional<exit_status> ignored;
    return reap(pid, ignored) == 0 || errno != EAGAIN;
  });
}

}  // namespace weft::process::detail

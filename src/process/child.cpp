// SPDX-License-Identifier: MIT
// weft::process::child, child_stdin and child_output: the pipes are async_io
// loops (io/async_io.hpp) around read and write; the exit is child_state's.
#include <weft/process.hpp>

#include "io/async_io.hpp"
#include "process/child_state.hpp"

#include <cerrno>
#include <csignal>
#include <stdexcept>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

namespace weft::process {

namespace {

/// write(2) on a pipe without SIGPIPE: MSG_NOSIGNAL exists only for
/// sockets, so SIGPIPE is blocked on this thread for the call, and one the
/// write raised is taken back with sigtimedwait before the mask is restored.
/// A SIGPIPE already pending before the call is left alone.
ssize_t write_without_sigpipe(int fd, const void* data, std::size_t size) noexcept {
  sigset_t pipe_only, previous, pending;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  const ssize_t n = ::write(fd, data, size);
  const int error = errno;
  if (n < 0 && error == EPIPE && !was_pending) {
    const timespec no_wait{};
    while (::sigtimedwait(&pipe_only, nullptr, &no_wait) < 0 && errno == EINTR) {}
  }
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  errno = error;
  return n;
}

task<std::size_t> ready_size(std::size_t n) { co_return n; }

}  // namespace

// -- child_stdin ---------------------------------------------------------------------

task<std::size_t> child_stdin::write(std::span<const std::byte> bytes) {
  if (!io_.is_open()) {
    return []() -> task<std::size_t> {
      weft::detail::throw_io_error(EPIPE, "weft::process::child_stdin::write: closed by shutdown_write");
      co_return 0;
    }();
  }
  if (bytes.empty()) return ready_size(0);
  return weft::detail::async_io<std::size_t>(
      &io_.reg(), weft::detail::direction::write, "weft::process::child_stdin::write",
      [fd = io_.fd(), bytes] { return write_without_sigpipe(fd, bytes.data(), bytes.size()); });
}

task<void> child_stdin::write_all(std::span<const std::byte> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) done += co_await write(bytes.subspan(done));
}

void child_stdin::shutdown_write() noexcept { io_.close(); }

// -- child_output --------------------------------------------------------------------

task<std::size_t> child_output::read(std::span<std::byte> buffer) {
  if (buffer.empty()) return ready_size(0);
  return weft::detail::async_io<std::size_t>(
      &io_.reg(), weft::detail::direction::read, "weft::process::child_output::read",
      [fd = io_.fd(), buffer] { return ::read(fd, buffer.data(), buffer.size()); });
}

// -- child ---------------------------------------------------------------------------

child::child(std::unique_ptr<detail::child_state> state) noexcept : state_(std::move(state)) {}
child::child(child&& other) noexcept = default;

child& child::operator=(child&& other) noexcept {
  if (this != &other) {
    if (state_ && !state_->status()) detail::child_state::reap_in_background(std::move(state_));
    state_ = std::move(other.state_);
    stdin_ = std::move(other.stdin_);
    stdout_ = std::move(other.stdout_);
    stderr_ = std::move(other.stderr_);
  }
  return *this;
}

child::~child() {
  // The pipes close first (members are destroyed after this body, so close
  // stdin now): a child waiting for EOF on its stdin can then finish.
  stdin_.reset();
  if (state_ && !state_->status()) detail::child_state::reap_in_background(std::move(state_));
}

int child::id() const noexcept { return state_ ? static_cast<int>(state_->pid()) : -1; }

task<exit_status> child::wait() {
  if (!state_) throw std::logic_error("weft::process::child::wait: moved-from child");
  stdin_.reset();   // as Tokio: a child reading its stdin to EOF could never exit otherwise
  co_return co_await state_->wait();
}

void child::kill() {
  if (!state_) throw std::logic_error("weft::process::child::kill: moved-from child");
  state_->kill();
}

}  // namespace weft::process

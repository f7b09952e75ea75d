// SPDX-License-Identifier: MIT
// weft::signal_listener and weft::ctrl_c over the registry
// (signal_registry.cpp). A listener registers its own dup of the wake-up
// eventfd with the reactor of the runtime it is awaited in (at its first
// recv(), again if it is later awaited in another runtime), and recv() is
// one async_io loop: "done" is "the delivery counter moved past what this
// listener has seen".
#include <weft/signal.hpp>

#include <weft/detail/io_object.hpp>
#include <weft/runtime.hpp>

#include "io/async_io.hpp"
#include "signal/signal_registry.hpp"

#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace weft {

namespace detail {

class signal_listener_state {
public:
  explicit signal_listener_state(int signo) : signo_(signo), seen_(signals::add_listener(signo)) {}
  signal_listener_state(const signal_listener_state&) = delete;
  signal_listener_state& operator=(const signal_listener_state&) = delete;
  ~signal_listener_state() {
    wake_.close();   // before the disposition changes: nothing can wait on it now
    signals::remove_listener(signo_);
  }

  int signo() const noexcept { return signo_; }

  /// The wake-up registration in the calling thread's runtime.
  registration& wake_registration() {
    runtime_core& core = current_core();
    if (registered_in_ != &core) {
      const int fd = ::fcntl(signals::wake_fd(), F_DUPFD_CLOEXEC, 0);
      if (fd < 0) throw_io_error(errno, "weft::signal_listener::recv: dup");
      wake_ = io_object(fd);
      registered_in_ = &core;
    }
    return wake_.reg();
  }

  /// The async_io operation of recv(): 0 once a delivery is pending, else
  /// EAGAIN. The eventfd is never drained: every handler write is an edge
  /// for every registration, but epoll re-polls an edge before reporting
  /// it, so a drain by one listener could hide the edge from another whose
  /// runtime had not yet collected it. (Its count would need 2^64 signals
  /// to fill.)
  int poll_delivery() noexcept {
    const std::uint64_t now = signals::deliveries(signo_);
    if (now != seen_) {
      seen_ = now;
      return 0;
    }
    errno = EAGAIN;
    return -1;
  }

private:
  const int signo_;
  std::uint64_t seen_;                      // deliveries this listener has received
  io_object wake_;                          // dup of the registry's eventfd
  const runtime_core* registered_in_ = nullptr;   // identity only, never dereferenced
};

}  // namespace detail

signal_listener::signal_listener(std::unique_ptr<detail::signal_listener_state> state) noexcept
    : state_(std::move(state)) {}
signal_listener::signal_listener(signal_listener&& other) noexcept = default;
signal_listener& signal_listener::operator=(signal_listener&& other) noexcept = default;
signal_listener::~signal_listener() = default;

signal_listener signal_listener::on(int signo) {
  return signal_listener(std::make_unique<detail::signal_listener_state>(signo));
}

int signal_listener::signo() const noexcept { return state_ ? state_->signo() : 0; }

task<void> signal_listener::recv() {
  if (!state_) throw std::logic_error("weft::signal_listener::recv: moved-from listener");
  detail::signal_listener_state& state = *state_;
  auto delivered = [&state] { return state.poll_delivery(); };
  co_await detail::async_io<int>(&state.wake_registration(), detail::direction::read, "weft::signal_listener::recv",
                                 delivered);
}

namespace {

task<void> next_delivery(signal_listener listener) { co_await listener.recv(); }

}  // namespace

task<void> ctrl_c() { return next_delivery(signal_listener::on(SIGINT)); }

}  // namespace weft

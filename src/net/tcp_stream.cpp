// SPDX-License-Identifier: MIT
// weft::net::tcp_stream, and the shape every socket operation of weft::net
// has (tcp_listener.cpp and udp_socket.cpp follow it). Each socket owns an
// io_object (io_object.cpp): its descriptor, registered once with the
// runtime's reactor when created, deregistered and closed when destroyed.
//
// An operation is a loop in the calling task:
//   ticket = reg.ticket(dir)      // before the syscall: see io/reactor.cpp
//   syscall -> done, error (throw), or EAGAIN ->
//   readiness_awaiter(reg, dir, ticket): suspend unless an event came since
// so the common case (data or room already there) costs one syscall and no
// suspension, and a wake that finds nothing just waits again. The syscall
// runs only in the task, never in the reactor: a task cancelled while it
// waits has read, written, accepted or sent nothing, which is what makes
// read, write, accept, send_to and recv_from cancel-safe.
//
// Writes use send(..., MSG_NOSIGNAL): a closed peer gives EPIPE, never SIGPIPE.
#include <weft/net.hpp>

#include "io/registration.hpp"
#include "net/socket_ops.hpp"

#include <cerrno>
#include <string>
#include <system_error>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace weft::net {

using detail::direction;
using detail::readiness_awaiter;
using detail::registration;

namespace {

/// SO_ERROR of `fd` (0: none), clearing it.
int pending_error(int fd) noexcept {
  int error = 0;
  socklen_t len = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) return errno;
  return error;
}

bool is_connected(int fd) noexcept {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  return ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0;
}

}  // namespace

task<tcp_stream> tcp_stream::connect(endpoint peer) {
  const int fd = detail::open_socket(peer, SOCK_STREAM);
  sockaddr_storage ss;
  const socklen_t len = detail::to_sockaddr(peer, ss);
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&ss), len);
  if (rc != 0 && errno != EINPROGRESS && errno != EINTR) {
    const int error = errno;
    ::close(fd);
    detail::throw_socket_error(error, "weft::net::tcp_stream::connect");
  }
  // Registered only now: an unconnected socket reports EPOLLHUP, which would
  // be a useless first wake.
  detail::io_object io(fd);
  if (rc != 0) {
    registration& reg = io.reg();
    for (;;) {
      const std::uint32_t ticket = reg.ticket(direction::write);
      if (const int error = pending_error(fd); error != 0)
        detail::throw_socket_error(error, "weft::net::tcp_stream::connect");
      if (is_connected(fd)) break;
      readiness_awaiter ready(reg, direction::write, ticket);
      co_await ready;
    }
  }
  co_return tcp_stream(std::move(io));
}

task<std::size_t> tcp_stream::read(std::span<std::byte> buffer) {
  if (buffer.empty()) co_return 0;
  registration& reg = io_.reg();
  for (;;) {
    const std::uint32_t ticket = reg.ticket(direction::read);
    const ssize_t n = ::recv(io_.fd(), buffer.data(), buffer.size(), 0);
    if (n >= 0) co_return static_cast<std::size_t>(n);
    const int error = errno;
    if (error == EINTR) continue;
    if (!detail::would_block(error)) detail::throw_socket_error(error, "weft::net::tcp_stream::read");
    readiness_awaiter ready(reg, direction::read, ticket);
    co_await ready;
  }
}

task<std::size_t> tcp_stream::write(std::span<const std::byte> bytes) {
  if (bytes.empty()) co_return 0;
  registration& reg = io_.reg();
  for (;;) {
    const std::uint32_t ticket = reg.ticket(direction::write);
    const ssize_t n = ::send(io_.fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n >= 0) co_return static_cast<std::size_t>(n);
    const int error = errno;
    if (error == EINTR) continue;
    if (!detail::would_block(error)) detail::throw_socket_error(error, "weft::net::tcp_stream::write");
    readiness_awaiter ready(reg, direction::write, ticket);
    co_await ready;
  }
}

task<void> tcp_stream::read_exact(std::span<std::byte> buffer) {
  std::size_t done = 0;
  while (done < buffer.size()) {
    const std::size_t n = co_await read(buffer.subspan(done));
    if (n == 0) {
      const std::string what = "weft::net::tcp_stream::read_exact: unexpected eof after " + std::to_string(done) +
                               " of " + std::to_string(buffer.size()) + " bytes";
      throw std::system_error(std::make_error_code(std::errc::connection_reset), what);
    }
    done += n;
  }
}

task<void> tcp_stream::write_all(std::span<const std::byte> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) done += co_await write(bytes.subspan(done));
}

void tcp_stream::set_nodelay(bool enabled) {
  const int value = enabled ? 1 : 0;
  if (::setsockopt(io_.fd(), IPPROTO_TCP, TCP_NODELAY, &value, sizeof value) != 0)
    detail::throw_errno("weft::net::tcp_stream::set_nodelay");
}

void tcp_stream::set_linger(std::optional<std::chrono::seconds> linger) {
  ::linger value{};
  value.l_onoff = linger ? 1 : 0;
  value.l_linger = linger ? static_cast<int>(linger->count()) : 0;
  if (::setsockopt(io_.fd(), SOL_SOCKET, SO_LINGER, &value, sizeof value) != 0)
    detail::throw_errno("weft::net::tcp_stream::set_linger");
}

void tcp_stream::shutdown_write() {
  if (::shutdown(io_.fd(), SHUT_WR) != 0) detail::throw_errno("weft::net::tcp_stream::shutdown_write");
}

endpoint tcp_stream::local_endpoint() const { return detail::local_endpoint_of(io_.fd()); }
endpoint tcp_stream::peer_endpoint() const { return detail::peer_endpoint_of(io_.fd()); }

}  // namespace weft::net

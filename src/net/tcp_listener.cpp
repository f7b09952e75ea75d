// SPDX-License-Identifier: MIT
// weft::net::tcp_listener; the operation loop is described in tcp_stream.cpp.
#include <weft/net.hpp>

#include "io/registration.hpp"
#include "net/socket_ops.hpp"

#include <cerrno>

#include <sys/socket.h>

namespace weft::net {

using detail::direction;
using detail::readiness_awaiter;
using detail::registration;

tcp_listener tcp_listener::bind(const endpoint& local) {
  detail::io_object io(detail::open_socket(local, SOCK_STREAM));
  const int one = 1;
  if (::setsockopt(io.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
    detail::throw_errno("weft::net::tcp_listener::bind: SO_REUSEADDR");
  sockaddr_storage ss;
  const socklen_t len = detail::to_sockaddr(local, ss);
  if (::bind(io.fd(), reinterpret_cast<const sockaddr*>(&ss), len) != 0)
    detail::throw_errno("weft::net::tcp_listener::bind");
  if (::listen(io.fd(), SOMAXCONN) != 0) detail::throw_errno("weft::net::tcp_listener::bind: listen");
  return tcp_listener(std::move(io));
}

task<std::pair<tcp_stream, endpoint>> tcp_listener::accept() {
  registration& reg = io_.reg();
  for (;;) {
    const std::uint32_t ticket = reg.ticket(direction::read);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd = ::accept4(io_.fd(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      detail::io_object accepted(fd);
      co_return std::pair<tcp_stream, endpoint>(tcp_stream(std::move(accepted)), detail::from_sockaddr(ss));
    }
    const int error = errno;
    if (error == EINTR || error == ECONNABORTED) continue;
    if (!detail::would_block(error)) detail::throw_socket_error(error, "weft::net::tcp_listener::accept");
    readiness_awaiter ready(reg, direction::read, ticket);
    co_await ready;
  }
}

endpoint tcp_listener::local_endpoint() const { return detail::local_endpoint_of(io_.fd()); }

}  // namespace weft::net

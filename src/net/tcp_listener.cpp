// SPDX-License-Identifier: MIT
// weft::net::tcp_listener; accept is one async_io loop (io/async_io.hpp).
#include <weft/net.hpp>

#include "io/async_io.hpp"
#include "net/socket_ops.hpp"

#include <sys/socket.h>

namespace weft::net {

tcp_listener tcp_listener::bind(const endpoint& local) {
  detail::io_object io(detail::open_socket(local, SOCK_STREAM));
  const int one = 1;
  if (::setsockopt(io.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
    detail::throw_errno("weft::net::tcp_listener::bind: SO_REUSEADDR");
  sockaddr_storage ss;
  const socklen_t len = detail::to_sockaddr(local, ss);
  if (::bind(io.fd(), reinterpret_cast<const sockaddr*>(&ss), len) != 0)
    detail::throw_io_error(errno, "weft::net::tcp_listener::bind", local.to_string());
  if (::listen(io.fd(), SOMAXCONN) != 0)
    detail::throw_io_error(errno, "weft::net::tcp_listener::bind: listen", local.to_string());
  return tcp_listener(std::move(io));
}

task<std::pair<tcp_stream, endpoint>> tcp_listener::accept() {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const int fd = co_await detail::async_io<int>(&io_.reg(), detail::direction::read, "weft::net::tcp_listener::accept",
                                                detail::accept_op(io_.fd(), ss, len));
  detail::io_object accepted(fd);
  co_return std::pair<tcp_stream, endpoint>(tcp_stream(std::move(accepted)), detail::from_sockaddr(ss));
}

endpoint tcp_listener::local_endpoint() const { return detail::local_endpoint_of(io_.fd()); }

}  // namespace weft::net

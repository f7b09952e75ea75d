// SPDX-License-Identifier: MIT
// weft::net::udp_socket; the operation loop is described in tcp_stream.cpp.
#include <weft/net.hpp>

#include "io/registration.hpp"
#include "net/socket_ops.hpp"

#include <cerrno>

#include <sys/socket.h>

namespace weft::net {

using detail::direction;
using detail::readiness_awaiter;
using detail::registration;

udp_socket udp_socket::bind(const endpoint& local) {
  detail::io_object io(detail::open_socket(local, SOCK_DGRAM));
  sockaddr_storage ss;
  const socklen_t len = detail::to_sockaddr(local, ss);
  if (::bind(io.fd(), reinterpret_cast<const sockaddr*>(&ss), len) != 0)
    detail::throw_errno("weft::net::udp_socket::bind");
  return udp_socket(std::move(io));
}

// The public overload takes `peer` by reference (DESIGN §5) but the coroutine
// takes it by value: a lazy task's reference parameter dangles if the task is
// awaited after the caller's full-expression.
task<std::size_t> udp_socket::send_to(std::span<const std::byte> datagram, const endpoint& peer) {
  return send_to_copy(datagram, peer);
}

task<std::size_t> udp_socket::send_to_copy(std::span<const std::byte> datagram, endpoint peer) {
  sockaddr_storage ss;
  const socklen_t len = detail::to_sockaddr(peer, ss);
  registration& reg = io_.reg();
  for (;;) {
    const std::uint32_t ticket = reg.ticket(direction::write);
    const ssize_t n = ::sendto(io_.fd(), datagram.data(), datagram.size(), MSG_NOSIGNAL,
                               reinterpret_cast<const sockaddr*>(&ss), len);
    if (n >= 0) co_return static_cast<std::size_t>(n);
    const int error = errno;
    if (error == EINTR) continue;
    if (!detail::would_block(error)) detail::throw_socket_error(error, "weft::net::udp_socket::send_to");
    readiness_awaiter ready(reg, direction::write, ticket);
    co_await ready;
  }
}

task<std::pair<std::size_t, endpoint>> udp_socket::recv_from(std::span<std::byte> buffer) {
  registration& reg = io_.reg();
  for (;;) {
    const std::uint32_t ticket = reg.ticket(direction::read);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const ssize_t n =
        ::recvfrom(io_.fd(), buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&ss), &len);
    if (n >= 0) co_return std::pair<std::size_t, endpoint>(static_cast<std::size_t>(n), detail::from_sockaddr(ss));
    const int error = errno;
    if (error == EINTR) continue;
    if (!detail::would_block(error)) detail::throw_socket_error(error, "weft::net::udp_socket::recv_from");
    readiness_awaiter ready(reg, direction::read, ticket);
    co_await ready;
  }
}

endpoint udp_socket::local_endpoint() const { return detail::local_endpoint_of(io_.fd()); }

}  // namespace weft::net

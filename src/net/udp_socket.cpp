// SPDX-License-Identifier: MIT
// weft::net::udp_socket; send_to and recv_from are async_io loops (io/async_io.hpp).
#include <weft/net.hpp>

#include "io/async_io.hpp"
#include "net/socket_ops.hpp"

#include <sys/socket.h>

namespace weft::net {

udp_socket udp_socket::bind(const endpoint& local) {
  detail::io_object io(detail::open_socket(local, SOCK_DGRAM));
  sockaddr_storage ss;
  const socklen_t len = detail::to_sockaddr(local, ss);
  if (::bind(io.fd(), reinterpret_cast<const sockaddr*>(&ss), len) != 0)
    detail::throw_io_error(errno, "weft::net::udp_socket::bind", local.to_string());
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
  auto send = [fd = io_.fd(), datagram, &ss, len] {
    return ::sendto(fd, datagram.data(), datagram.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&ss), len);
  };
  co_return co_await detail::async_io<std::size_t>(&io_.reg(), detail::direction::write,
                                                   "weft::net::udp_socket::send_to", send);
}

task<std::pair<std::size_t, endpoint>> udp_socket::recv_from(std::span<std::byte> buffer) {
  sockaddr_storage ss{};
  auto receive = [fd = io_.fd(), buffer, &ss] {
    socklen_t len = sizeof ss;
    return ::recvfrom(fd, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&ss), &len);
  };
  const std::size_t n = co_await detail::async_io<std::size_t>(&io_.reg(), detail::direction::read,
                                                               "weft::net::udp_socket::recv_from", receive);
  co_return std::pair<std::size_t, endpoint>(n, detail::from_sockaddr(ss));
}

endpoint udp_socket::local_endpoint() const { return detail::local_endpoint_of(io_.fd()); }

}  // namespace weft::net

// SPDX-License-Identifier: MIT
// weft::net::tcp_stream. Each socket owns an io_object (io_object.cpp): its
// descriptor, registered once with the runtime's reactor when created,
// deregistered and closed when destroyed. Every operation that may wait is
// one async_io loop (io/async_io.hpp): the syscall runs in the task, so an
// operation cancelled while it waits has done nothing. The byte-stream
// operations are shared with unix_stream (stream_ops.cpp).
#include <weft/net.hpp>

#include "io/async_io.hpp"
#include "net/socket_ops.hpp"
#include "net/stream_ops.hpp"

#include <cerrno>
#include <string>
#include <system_error>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace weft::net {

task<tcp_stream> tcp_stream::connect(endpoint peer) {
  sockaddr_storage ss;
  const socklen_t len = detail::to_sockaddr(peer, ss);
  detail::io_object io = co_await detail::connect_stream(ss, len, "weft::net::tcp_stream::connect", peer.to_string());
  co_return tcp_stream(std::move(io));
}

task<std::size_t> tcp_stream::read(std::span<std::byte> buffer) {
  return detail::stream_read(io_, buffer, "weft::net::tcp_stream::read");
}

task<std::size_t> tcp_stream::write(std::span<const std::byte> bytes) {
  return detail::stream_write(io_, bytes, "weft::net::tcp_stream::write");
}

task<void> tcp_stream::read_exact(std::span<std::byte> buffer) {
  return detail::stream_read_exact(&io_, buffer, "weft::net::tcp_stream::read_exact");
}

task<void> tcp_stream::write_all(std::span<const std::byte> bytes) {
  return detail::stream_write_all(&io_, bytes, "weft::net::tcp_stream::write_all");
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

void tcp_stream::shutdown_write() { detail::stream_shutdown_write(io_, "weft::net::tcp_stream::shutdown_write"); }

endpoint tcp_stream::local_endpoint() const { return detail::local_endpoint_of(io_.fd()); }
endpoint tcp_stream::peer_endpoint() const { return detail::peer_endpoint_of(io_.fd()); }

}  // namespace weft::net

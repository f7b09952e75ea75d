// SPDX-License-Identifier: MIT
// weft::net::unix_listener and unix_stream: the TCP code paths (accept's
// async_io loop, connect_stream, stream_ops) on AF_UNIX addresses.
#include <weft/net.hpp>

#include "io/async_io.hpp"
#include "net/socket_ops.hpp"
#include "net/stream_ops.hpp"
#include "net/unix_path.hpp"

#include <cerrno>
#include <cstring>

#include <sys/socket.h>

namespace weft::net {

unix_listener unix_listener::bind(const std::string& path) {
  constexpr const char* what = "weft::net::unix_listener::bind";
  detail::io_object io(detail::bind_unix(SOCK_STREAM, path, what));
  if (::listen(io.fd(), SOMAXCONN) != 0) detail::throw_io_error(errno, "weft::net::unix_listener::bind: listen", path);
  return unix_listener(std::move(io));
}

task<std::pair<unix_stream, std::string>> unix_listener::accept() {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const int fd = co_await detail::async_io<int>(&io_.reg(), detail::direction::read, "weft::net::unix_listener::accept",
                                                detail::accept_op(io_.fd(), ss, len));
  detail::io_object accepted(fd);
  sockaddr_un peer{};
  std::memcpy(&peer, &ss, sizeof peer);
  std::string peer_path = detail::from_sockaddr_un(peer, len);
  co_return std::pair<unix_stream, std::string>(unix_stream(std::move(accepted)), std::move(peer_path));
}

std::string unix_listener::local_path() const { return detail::unix_local_path(io_.fd()); }

task<unix_stream> unix_stream::connect(std::string path) {
  constexpr const char* what = "weft::net::unix_stream::connect";
  sockaddr_un address;
  const socklen_t len = detail::to_sockaddr_un(path, address, what);
  sockaddr_storage ss{};
  std::memcpy(&ss, &address, sizeof address);
  detail::io_object io = co_await detail::connect_stream(ss, len, what, std::move(path));
  co_return unix_stream(std::move(io));
}

task<std::size_t> unix_stream::read(std::span<std::byte> buffer) {
  return detail::stream_read(io_, buffer, "weft::net::unix_stream::read");
}

task<std::size_t> unix_stream::write(std::span<const std::byte> bytes) {
  return detail::stream_write(io_, bytes, "weft::net::unix_stream::write");
}

task<void> unix_stream::read_exact(std::span<std::byte> buffer) {
  return detail::stream_read_exact(&io_, buffer, "weft::net::unix_stream::read_exact");
}

task<void> unix_stream::write_all(std::span<const std::byte> bytes) {
  return detail::stream_write_all(&io_, bytes, "weft::net::unix_stream::write_all");
}

void unix_stream::shutdown_write() { detail::stream_shutdown_write(io_, "weft::net::unix_stream::shutdown_write"); }

std::string unix_stream::local_path() const { return detail::unix_local_path(io_.fd()); }
std::string unix_stream::peer_path() const { return detail::unix_peer_path(io_.fd()); }

}  // namespace weft::net

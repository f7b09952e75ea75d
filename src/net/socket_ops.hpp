// SPDX-License-Identifier: MIT
#pragma once
// Small POSIX helpers shared by weft::net: endpoint <-> sockaddr, socket
// creation, and errno -> std::system_error.
#include <weft/net.hpp>

#include <cerrno>
#include <string>

#include <sys/socket.h>

namespace weft::detail {

/// Throws std::system_error(errno-category `error`) naming `what`.
[[noreturn]] void throw_socket_error(int error, const char* what);
/// Same, with the current errno.
[[noreturn]] void throw_errno(const char* what);

/// Fills `out` from `e`; returns the length to pass to bind/connect/sendto.
socklen_t to_sockaddr(const net::endpoint& e, sockaddr_storage& out) noexcept;
/// The endpoint in `in` (AF_INET or AF_INET6; anything else gives 0.0.0.0:0).
net::endpoint from_sockaddr(const sockaddr_storage& in) noexcept;

/// A new non-blocking, close-on-exec socket for `e`'s family.
/// Errors: std::system_error with the errno.
int open_socket(const net::endpoint& e, int type);

/// getsockname / getpeername as an endpoint. Errors: std::system_error.
net::endpoint local_endpoint_of(int fd);
net::endpoint peer_endpoint_of(int fd);

/// True if errno says "try again when ready".
bool would_block(int error) noexcept;

/// The async_io operation of an accept on `listener_fd`: accept4 of a
/// non-blocking, close-on-exec socket, the peer's address into `peer` and
/// its length into `len` (both must outlive the operation); ECONNABORTED is
/// retried.
inline auto accept_op(int listener_fd, sockaddr_storage& peer, socklen_t& len) noexcept {
  return [listener_fd, &peer, &len] {
    for (;;) {
      len = sizeof peer;
      const int fd = ::accept4(listener_fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0 || errno != ECONNABORTED) return fd;
    }
  };
}

/// A new non-blocking, close-on-exec stream socket of `addr`'s family,
/// connected to `addr` and registered with the current runtime's reactor.
/// Errors: std::system_error with the errno, its what() "`what`: `subject`".
task<io_object> connect_stream(sockaddr_storage addr, socklen_t len, const char* what, std::string subject);

}  // namespace weft::detail

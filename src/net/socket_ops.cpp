// SPDX-License-Identifier: MIT
#include "net/socket_ops.hpp"

#include "io/async_io.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>

#include <netinet/in.h>
#include <unistd.h>

namespace weft::detail {

void throw_socket_error(int error, const char* what) { throw std::system_error(error, std::generic_category(), what); }

void throw_errno(const char* what) { throw_socket_error(errno, what); }

bool would_block(int error) noexcept { return error == EAGAIN || error == EWOULDBLOCK; }

socklen_t to_sockaddr(const net::endpoint& e, sockaddr_storage& out) noexcept {
  std::memset(&out, 0, sizeof out);
  const auto bytes = e.address_bytes();
  if (e.is_v4()) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(e.port());
    std::memcpy(&sa.sin_addr, bytes.data(), 4);
    std::memcpy(&out, &sa, sizeof sa);
    return sizeof sa;
  }
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(e.port());
  std::memcpy(&sa.sin6_addr, bytes.data(), 16);
  sa.sin6_scope_id = e.scope_id();
  std::memcpy(&out, &sa, sizeof sa);
  return sizeof sa;
}

net::endpoint from_sockaddr(const sockaddr_storage& in) noexcept {
  if (in.ss_family == AF_INET) {
    sockaddr_in sa;
    std::memcpy(&sa, &in, sizeof sa);
    std::array<std::uint8_t, 4> a;
    std::memcpy(a.data(), &sa.sin_addr, 4);
    return net::endpoint::v4(a, ntohs(sa.sin_port));
  }
  if (in.ss_family == AF_INET6) {
    sockaddr_in6 sa;
    std::memcpy(&sa, &in, sizeof sa);
    std::array<std::uint8_t, 16> a;
    std::memcpy(a.data(), &sa.sin6_addr, 16);
    return net::endpoint::v6(a, ntohs(sa.sin6_port), sa.sin6_scope_id);
  }
  return net::endpoint{};
}

int open_socket(const net::endpoint& e, int type) {
  const int fd = ::socket(e.is_v4() ? AF_INET : AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("weft::net: socket");
  return fd;
}

net::endpoint local_endpoint_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) throw_errno("weft::net: getsockname");
  return from_sockaddr(ss);
}

net::endpoint peer_endpoint_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) throw_errno("weft::net: getpeername");
  return from_sockaddr(ss);
}

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

task<io_object> connect_stream(sockaddr_storage addr, socklen_t len, const char* what, std::string subject) {
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_io_error(errno, what, subject);
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), len);
  // EINPROGRESS (TCP) / EINTR: the handshake goes on in the background. A
  // Unix socket either connects at once or fails (EAGAIN: backlog full).
  if (rc != 0 && errno != EINPROGRESS && errno != EINTR) {
    const int error = errno;
    ::close(fd);
    throw_io_error(error, what, subject);
  }
  // Registered only now: an unconnected socket reports EPOLLHUP, which would
  // be a useless first wake.
  io_object io(fd);
  if (rc != 0) {
    // Writable means the handshake ended: SO_ERROR says how.
    auto handshake_done = [fd] {
      if (const int error = pending_error(fd); error != 0) {
        errno = error;
        return -1;
      }
      if (is_connected(fd)) return 0;
      errno = EAGAIN;
      return -1;
    };
    co_await async_io<int>(&io.reg(), direction::write, what, handshake_done, subject);
  }
  co_return io;
}

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#include "net/unix_path.hpp"

#include "io/async_io.hpp"

#include <cerrno>
#include <cstddef>
#include <cstring>

#include <unistd.h>

namespace weft::detail {

socklen_t to_sockaddr_un(std::string_view path, sockaddr_un& out, const char* what) {
  std::memset(&out, 0, sizeof out);
  out.sun_family = AF_UNIX;
  constexpr std::size_t header = offsetof(sockaddr_un, sun_path);
  if (path.empty()) throw_io_error(EINVAL, what, "(empty path)");
  if (path.front() == '@') {
    const std::string_view name = path.substr(1);
    if (name.size() + 1 > sizeof out.sun_path) throw_io_error(ENAMETOOLONG, what, path);
    std::memcpy(out.sun_path + 1, name.data(), name.size());   // sun_path[0] stays NUL
    return static_cast<socklen_t>(header + 1 + name.size());
  }
  // The kernel would cut a path at its first NUL: refuse instead of
  // binding or reaching a different file.
  if (path.find('\0') != std::string_view::npos) throw_io_error(EINVAL, what, "(path with a NUL byte)");
  if (path.size() + 1 > sizeof out.sun_path) throw_io_error(ENAMETOOLONG, what, path);
  std::memcpy(out.sun_path, path.data(), path.size());
  return static_cast<socklen_t>(header + path.size() + 1);
}

std::string from_sockaddr_un(const sockaddr_un& address, socklen_t len) {
  constexpr std::size_t header = offsetof(sockaddr_un, sun_path);
  if (len <= header || address.sun_family != AF_UNIX) return {};
  const std::size_t size = std::min<std::size_t>(len - header, sizeof address.sun_path);
  if (address.sun_path[0] == '\0') return "@" + std::string(address.sun_path + 1, size - 1);
  return std::string(address.sun_path, ::strnlen(address.sun_path, size));
}

int bind_unix(int type, std::string_view path, const char* what) {
  sockaddr_un address;
  const socklen_t len = to_sockaddr_un(path, address, what);
  const int fd = ::socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_io_error(errno, what, path);
  // No unlink of an existing file first: a stale socket is the caller's to
  // remove (it may be another live server's), so bind fails with EADDRINUSE.
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), len) != 0) {
    const int error = errno;
    ::close(fd);
    throw_io_error(error, what, path);
  }
  return fd;
}

namespace {

template <class Call>
std::string path_of(int fd, Call call, const char* what) {
  sockaddr_un address{};
  socklen_t len = sizeof address;
  if (call(fd, reinterpret_cast<sockaddr*>(&address), &len) != 0) throw_io_error(errno, what);
  return from_sockaddr_un(address, len);
}

}  // namespace

std::string unix_local_path(int fd) { return path_of(fd, ::getsockname, "weft::net: getsockname"); }
std::string unix_peer_path(int fd) { return path_of(fd, ::getpeername, "weft::net: getpeername"); }

}  // namespace weft::detail

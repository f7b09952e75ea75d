// SPDX-License-Identifier: MIT
#pragma once
// Unix socket paths <-> sockaddr_un. A path beginning with '@' names a Linux
// abstract socket: sun_path starts with a NUL byte and the name is the rest
// of the address (its length comes from the address length, not a NUL).
#include <string>
#include <string_view>

#include <sys/socket.h>
#include <sys/un.h>

namespace weft::detail {

/// Fills `out` for `path`; returns the address length.
/// Errors: std::system_error naming `what` and the path: ENAMETOOLONG over
/// 107 bytes, EINVAL for an empty path or a NUL inside a filesystem path.
socklen_t to_sockaddr_un(std::string_view path, sockaddr_un& out, const char* what);

/// The path in an address of length `len`: "" when unnamed, "@name" when abstract.
std::string from_sockaddr_un(const sockaddr_un& address, socklen_t len);

/// A new non-blocking, close-on-exec AF_UNIX socket of `type` bound to
/// `path`, registered with the current runtime's reactor.
/// Errors: std::system_error with the errno naming `what` and the path
/// (EADDRINUSE when a file exists there); weft::no_runtime.
int bind_unix(int type, std::string_view path, const char* what);

/// getsockname / getpeername of a Unix socket as a path.
/// Errors: std::system_error with the errno.
std::string unix_local_path(int fd);
std::string unix_peer_path(int fd);

}  // namespace weft::detail

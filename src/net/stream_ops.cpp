// SPDX-License-Identifier: MIT
#include "net/stream_ops.hpp"

#include "io/async_io.hpp"
#include "net/socket_ops.hpp"

#include <string>
#include <system_error>

#include <sys/socket.h>

namespace weft::detail {

task<std::size_t> ready_size(std::size_t value) { co_return value; }

task<std::size_t> stream_read(const io_object& io, std::span<std::byte> buffer, const char* what) {
  if (buffer.empty()) return ready_size(0);
  return async_io<std::size_t>(&io.reg(), direction::read, what,
                               [fd = io.fd(), buffer] { return ::recv(fd, buffer.data(), buffer.size(), 0); });
}

task<std::size_t> stream_write(const io_object& io, std::span<const std::byte> bytes, const char* what) {
  if (bytes.empty()) return ready_size(0);
  return async_io<std::size_t>(&io.reg(), direction::write, what,
                               [fd = io.fd(), bytes] { return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL); });
}

task<void> stream_read_exact(const io_object* io, std::span<std::byte> buffer, const char* what) {
  std::size_t done = 0;
  while (done < buffer.size()) {
    const std::size_t n = co_await stream_read(*io, buffer.subspan(done), what);
    if (n == 0) {
      const std::string text = std::string(what) + ": unexpected eof after " + std::to_string(done) + " of " +
                               std::to_string(buffer.size()) + " bytes";
      throw std::system_error(std::make_error_code(std::errc::connection_reset), text);
    }
    done += n;
  }
}

task<void> stream_write_all(const io_object* io, std::span<const std::byte> bytes, const char* what) {
  std::size_t done = 0;
  while (done < bytes.size()) done += co_await stream_write(*io, bytes.subspan(done), what);
}

void stream_shutdown_write(const io_object& io, const char* what) {
  if (::shutdown(io.fd(), SHUT_WR) != 0) throw_errno(what);
}

}  // namespace weft::detail

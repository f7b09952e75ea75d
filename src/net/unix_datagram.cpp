// SPDX-License-Identifier: MIT
// weft::net::unix_datagram: send_to and recv_from are async_io loops
// (io/async_io.hpp) around sendto/recvfrom on AF_UNIX addresses.
#include <weft/net.hpp>

#include "io/async_io.hpp"
#include "net/unix_path.hpp"

#include <sys/socket.h>

namespace weft::net {

unix_datagram unix_datagram::bind(const std::string& path) {
  return unix_datagram(detail::io_object(detail::bind_unix(SOCK_DGRAM, path, "weft::net::unix_datagram::bind")));
}

task<std::size_t> unix_datagram::send_to(std::span<const std::byte> datagram, std::string path) {
  constexpr const char* what = "weft::net::unix_datagram::send_to";
  sockaddr_un address;
  const socklen_t len = detail::to_sockaddr_un(path, address, what);
  auto send = [fd = io_.fd(), datagram, &address, len] {
    return ::sendto(fd, datagram.data(), datagram.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address),
                    len);
  };
  co_return co_await detail::async_io<std::size_t>(&io_.reg(), detail::direction::write, what, send, path);
}

task<std::pair<std::size_t, std::string>> unix_datagram::recv_from(std::span<std::byte> buffer) {
  sockaddr_un address{};
  socklen_t len = 0;
  auto receive = [fd = io_.fd(), buffer, &address, &len] {
    len = sizeof address;
    return ::recvfrom(fd, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&address), &len);
  };
  const std::size_t n = co_await detail::async_io<std::size_t>(&io_.reg(), detail::direction::read,
                                                               "weft::net::unix_datagram::recv_from", receive);
  co_return std::pair<std::size_t, std::string>(n, detail::from_sockaddr_un(address, len));
}

std::string unix_datagram::local_path() const { return detail::unix_local_path(io_.fd()); }

}  // namespace weft::net

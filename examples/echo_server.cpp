// SPDX-License-Identifier: MIT
// A TCP echo server: every connection gets its own task, which writes back
// whatever it reads until the client closes. Ctrl-C (SIGINT) shuts it down
// cleanly: the accept loop stops, and returning from block_on cancels the
// connection tasks and closes their sockets.
//
//   echo_server [port]        (default 7878; 0 picks a free port)
//   then, e.g.:  nc 127.0.0.1 7878
#include <weft/net.hpp>
#include <weft/runtime.hpp>
#include <weft/signal.hpp>
#include <weft/spawn.hpp>

#include <array>
#include <charconv>
#include <cstdint>
#include <exception>
#include <iostream>
#include <string_view>
#include <system_error>

namespace {

weft::task<void> echo(weft::net::tcp_stream stream, weft::net::endpoint peer) {
  std::array<std::byte, 16 * 1024> buffer;
  try {
    for (;;) {
      const std::size_t n = co_await stream.read(buffer);
      if (n == 0) break;   // the client closed
      co_await stream.write_all(std::span(buffer.data(), n));
    }
  } catch (const std::system_error& e) {
    std::cerr << peer.to_string() << ": " << e.what() << '\n';
  }
}

weft::task<void> accept_loop(weft::net::tcp_listener listener) {
  for (;;) {
    auto [stream, peer] = co_await listener.accept();
    stream.set_nodelay(true);
    auto handle = weft::spawn(echo(std::move(stream), peer));   // detached: runs until the client closes
  }
}

weft::task<void> serve(std::uint16_t port) {
  auto interrupted = weft::ctrl_c();   // SIGINT is caught from here on
  auto listener = weft::net::tcp_listener::bind(weft::net::endpoint::v4({127, 0, 0, 1}, port));
  std::cout << "echo_server listening on " << listener.local_endpoint().to_string() << std::endl;
  auto accepting = weft::spawn(accept_loop(std::move(listener)));
  co_await interrupted;
  accepting.abort();   // closes the listener at its next suspension
  std::cout << "echo_server: interrupted, shutting down" << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 7878;
  if (argc > 1) {
    const std::string_view arg = argv[1];
    const auto [end, error] = std::from_chars(arg.data(), arg.data() + arg.size(), port);
    if (error != std::errc{} || end != arg.data() + arg.size()) {
      std::cerr << "usage: echo_server [port]   (a number from 0 to 65535)\n";
      return 2;
    }
  }
  try {
    weft::runtime rt;
    rt.block_on(serve(port));
  } catch (const std::exception& e) {
    std::cerr << "echo_server: " << e.what() << '\n';
    return 1;
  }
}

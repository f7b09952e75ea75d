// SPDX-License-Identifier: MIT
// Graceful shutdown, the pattern every server needs: on a signal, stop
// accepting, let the connections in flight finish, then exit.
//
// The signal is a weft::cancellation_token. Here a timer fires it so that
// the program ends by itself (it runs as a test); in a real server, ctrl_c
// fires it:  co_await weft::ctrl_c(); shutdown.cancel();
//
//   graceful_shutdown          serves for 300 ms while a client connects
//                              every 20 ms, then shuts down and prints a summary
#include <weft/combinators.hpp>
#include <weft/net.hpp>
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <span>
#include <string_view>
#include <system_error>

namespace {

using namespace std::chrono_literals;

std::atomic<int> served{0};

/// One connection: reads a request, "works" for a while, answers.
weft::task<void> handle_connection(weft::net::tcp_stream stream) {
  try {
    std::array<std::byte, 64> request{};
    const std::size_t n = co_await stream.read(request);
    co_await weft::sleep(100ms);   // the work; a connection is in flight meanwhile
    co_await stream.write_all(std::span(request.data(), n));
    served.fetch_add(1);
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "connection: %s\n", e.what());
  }
}

/// Accepts until `shutdown` is cancelled, then waits for the connections
/// in flight: when_any cancels the pending accept (no connection is lost
/// half-accepted), and the tracker counts the handlers.
weft::task<int> serve(weft::net::tcp_listener listener, weft::cancellation_token shutdown) {
  weft::task_tracker connections;
  for (;;) {
    auto next = co_await weft::when_any(shutdown.cancelled(), listener.accept());
    if (next.index() == 0) break;
    auto [stream, peer] = std::get<1>(std::move(next));
    (void)connections.spawn(handle_connection(std::move(stream)));   // handle dropped: the tracker counts it
  }
  const std::size_t in_flight = connections.size();
  std::printf("shutdown: stopped accepting, %zu connection(s) in flight\n", in_flight);
  connections.close();
  co_await connections.wait();
  co_return static_cast<int>(in_flight);
}

/// A client that connects every 20 ms and checks the echo, until told to stop.
weft::task<int> client(weft::net::endpoint server, weft::cancellation_token stop) {
  int answered = 0;
  while (!stop.is_cancelled()) {
    auto stream = co_await weft::net::tcp_stream::connect(server);
    constexpr std::string_view hello = "hello";
    co_await stream.write_all(std::as_bytes(std::span(hello)));
    auto conversation = [](weft::net::tcp_stream s) -> weft::task<void> {
      std::array<std::byte, 64> reply{};
      co_await s.read(reply);
    };
    auto h = weft::spawn(conversation(std::move(stream)));
    co_await weft::sleep(20ms);
    (void)h;   // detached: the server answers it even after shutdown began
    ++answered;
  }
  co_return answered;
}

weft::task<int> run() {
  auto listener = weft::net::tcp_listener::bind(weft::net::endpoint::parse("127.0.0.1:0"));
  const weft::net::endpoint address = listener.local_endpoint();
  weft::cancellation_token shutdown;

  // The signal: a timer here, ctrl_c in a real server.
  auto fire_after = [](weft::cancellation_token token, std::chrono::milliseconds d) -> weft::task<void> {
    co_await weft::sleep(d);
    token.cancel();
  };
  auto timer = weft::spawn(fire_after(shutdown, 300ms));
  auto clients = weft::spawn(client(address, shutdown.child()));
  const int in_flight = co_await serve(std::move(listener), shutdown);
  const int connected = co_await clients;
  co_await timer;
  std::printf("clients connected %d time(s); server answered %d; exited with 0 connections in flight\n", connected,
              served.load());
  co_return (in_flight >= 0 && served.load() >= 1) ? 0 : 1;
}

}  // namespace

int main() {
  try {
    weft::runtime rt;
    return rt.block_on(run());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "graceful_shutdown: %s\n", e.what());
    return 1;
  }
}

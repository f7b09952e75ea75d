// SPDX-License-Identifier: MIT
// Serves the runtime's metrics at /metrics in Prometheus's text format
// (weft::to_prometheus) over a minimal HTTP/1.1 server on weft::net, while a
// workload runs on the same runtime: a loop of spawn_blocking jobs, so the
// blocking pool's queue-wait and run-time histograms fill up.
//
//   metrics_endpoint [port]          (default 9464; 0 picks a free port)
//   then:  curl -s 127.0.0.1:9464/metrics
//   metrics_endpoint --once          scrapes itself once, prints it, exits
#include <weft/diagnostics.hpp>
#include <weft/net.hpp>
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <exception>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace {

using namespace std::chrono_literals;

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

/// The workload: blocking jobs of a few milliseconds, a few at a time.
weft::task<void> workload() {
  for (unsigned i = 0;; ++i) {
    auto a = weft::spawn_blocking([i] { std::this_thread::sleep_for(std::chrono::milliseconds(1 + i % 4)); });
    auto b = weft::spawn_blocking([] { std::this_thread::sleep_for(2ms); });
    co_await a;
    co_await b;
    co_await weft::sleep(1ms);
  }
}

/// Answers one HTTP request: GET /metrics, or 404.
weft::task<void> answer(weft::net::tcp_stream stream) {
  std::string request;
  std::array<std::byte, 1024> buffer;
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
    const std::size_t n = co_await stream.read(buffer);
    if (n == 0) co_return;
    request.append(reinterpret_cast<const char*>(buffer.data()), n);
  }
  const bool is_metrics = request.starts_with("GET /metrics ") || request.starts_with("GET /metrics?");
  const std::string body = is_metrics ? weft::to_prometheus(weft::handle::current().metrics()) : "not found\n";
  const std::string head = std::string(is_metrics ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.1 404 Not Found\r\n") +
                           "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n" +
                           "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  co_await stream.write_all(bytes_of(head));
  co_await stream.write_all(bytes_of(body));
  stream.shutdown_write();
}

weft::task<void> serve(weft::net::tcp_listener listener) {
  for (;;) {
    auto [stream, peer] = co_await listener.accept();
    auto handle = weft::spawn(answer(std::move(stream)));   // detached
  }
}

/// --once: what `curl -s host:port/metrics` would print.
weft::task<std::string> scrape(weft::net::endpoint at) {
  auto stream = co_await weft::net::tcp_stream::connect(at);
  co_await stream.write_all(bytes_of("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  std::string response;
  std::array<std::byte, 4096> buffer;
  for (;;) {
    const std::size_t n = co_await stream.read(buffer);
    if (n == 0) break;
    response.append(reinterpret_cast<const char*>(buffer.data()), n);
  }
  co_return response;
}

weft::task<int> run(std::uint16_t port, bool once) {
  auto listener = weft::net::tcp_listener::bind(weft::net::endpoint::v4({127, 0, 0, 1}, port));
  const weft::net::endpoint local = listener.local_endpoint();
  auto work = weft::spawn(workload());
  auto server = weft::spawn(serve(std::move(listener)));
  if (!once) {
    std::cout << "serving http://" << local.to_string() << "/metrics" << std::endl;
    co_await server;   // forever
    co_return 0;
  }
  co_await weft::sleep(200ms);   // let the workload fill the histograms
  const std::string response = co_await scrape(local);
  std::cout << response;
  work.abort();
  server.abort();
  co_return response.starts_with("HTTP/1.1 200 OK") ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint16_t port = 9464;
  bool once = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--once") {
      once = true;
      port = 0;
      continue;
    }
    const auto [end, error] = std::from_chars(arg.data(), arg.data() + arg.size(), port);
    if (error != std::errc{} || end != arg.data() + arg.size()) {
      std::cerr << "usage: metrics_endpoint [port] [--once]\n";
      return 2;
    }
  }
  try {
    weft::runtime rt;
    return rt.block_on(run(port, once));
  } catch (const std::exception& e) {
    std::cerr << "metrics_endpoint: " << e.what() << '\n';
    return 1;
  }
}

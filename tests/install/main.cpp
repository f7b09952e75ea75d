// SPDX-License-Identifier: MIT
// Uses weft as an installed package: see CMakeLists.txt beside this file.
// Only <weft/weft.hpp>: a header that is not installed, or that weft.hpp
// does not include, fails to compile here (time, blocking, channels, net).
#include <weft/weft.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <utility>

static_assert(WEFT_VERSION_MAJOR == EXPECTED_VERSION_MAJOR && WEFT_VERSION_MINOR == EXPECTED_VERSION_MINOR &&
                  WEFT_VERSION_PATCH == EXPECTED_VERSION_PATCH,
              "include/weft/version.hpp disagrees with project(VERSION) in CMakeLists.txt");

namespace {

using namespace std::chrono_literals;

weft::task<int> produce(weft::mpsc::sender<int> tx) {
  co_await weft::sleep(1ms);
  const int v = co_await weft::spawn_blocking([] { return 42; });
  co_await tx.send(v);
  co_return v;
}

weft::task<std::size_t> echo_once() {
  auto listener = weft::net::tcp_listener::bind(weft::net::endpoint::parse("127.0.0.1:0"));
  auto client = co_await weft::net::tcp_stream::connect(listener.local_endpoint());
  auto [server, peer] = co_await listener.accept();
  const std::array<std::byte, 3> out{std::byte{1}, std::byte{2}, std::byte{3}};
  co_await client.write_all(out);
  std::array<std::byte, 3> in{};
  co_await server.read_exact(in);
  co_return in == out ? in.size() : 0;
}

weft::task<int> app() {
  auto [tx, rx] = weft::mpsc::channel<int>(4);
  auto producer = weft::spawn(produce(std::move(tx)));
  auto received = co_await weft::timeout(10s, rx.recv());
  if (!received || !*received || **received != 42) co_return 1;
  if (co_await producer != 42) co_return 2;
  auto slow = co_await weft::timeout(1ms, weft::sleep(10s));
  if (slow) co_return 3;   // must have elapsed
  if (co_await echo_once() != 3) co_return 4;
  co_return 0;
}

}  // namespace

int main() {
  weft::runtime rt;
  const int status = rt.block_on(app());
  std::printf("weft %d.%d.%d: %s (%d)\n", weft::version_major, weft::version_minor, weft::version_patch,
              status == 0 ? "ok" : "FAILED", status);
  return status;
}

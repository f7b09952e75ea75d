// SPDX-License-Identifier: MIT
#include <weft/net.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>

#include "weft_task_helpers.hpp"
#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <vector>

#include <sys/resource.h>

namespace {

using weft::test::multi;

using weft::task;
using weft::net::endpoint;
using weft::net::tcp_listener;
using weft::net::tcp_stream;
using weft::net::udp_socket;

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

std::string text_of(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

/// Echoes everything until the peer closes, then closes.
task<void> echo_connection(tcp_stream s) {
  s.set_nodelay(true);
  std::array<std::byte, 16 * 1024> buf;
  for (;;) {
    const std::size_t n = co_await s.read(buf);
    if (n == 0) co_return;
    co_await s.write_all(std::span(buf.data(), n));
  }
}

/// Accepts `count` connections (forever if negative), echoing each on its own task.
task<void> echo_server(std::shared_ptr<tcp_listener> listener, int count) {
  for (int i = 0; count < 0 || i < count; ++i) {
    auto [stream, peer] = co_await listener->accept();
    auto h = weft::spawn(echo_connection(std::move(stream)));
  }
}

/// One round trip of `message` over `s`.
task<std::string> round_trip(tcp_stream& s, std::string message) {
  co_await s.write_all(bytes_of(message));
  std::string back(message.size(), '\0');
  co_await s.read_exact(std::as_writable_bytes(std::span(back)));
  co_return back;
}

/// The bytes of a large transfer: byte i is pattern()[i % pattern_period], a
/// pseudo-random sequence whose prime period matches no buffer size, so a
/// lost, repeated or reordered chunk shows up. The table has a chunk of
/// slack, so that any chunk is one contiguous slice of it.
constexpr std::size_t pattern_period = 65521;
constexpr std::size_t max_chunk = 256 * 1024;
const std::vector<std::byte>& pattern() {
  static const std::vector<std::byte> table = [] {
    std::vector<std::byte> t(pattern_period + max_chunk);
    std::uint32_t x = 12345;
    for (std::size_t i = 0; i < pattern_period; ++i) {
      x = x * 1664525u + 1013904223u;
      t[i] = std::byte{static_cast<std::uint8_t>(x >> 24)};
    }
    for (std::size_t i = pattern_period; i < t.size(); ++i) t[i] = t[i % pattern_period];
    return t;
  }();
  return table;
}
std::span<const std::byte> pattern_at(std::size_t offset, std::size_t n) {
  return std::span(pattern()).subspan(offset % pattern_period, n);
}

/// Lets a test hold many descriptors (two per connection).
void raise_fd_limit(rlim_t wanted) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur >= wanted) return;
  lim.rlim_cur = std::min(wanted, lim.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &lim);
}

// -- endpoint ------------------------------------------------------------------------------

TEST(Net, EndpointParsesAndPrintsIpv4AndIpv6) {
  const endpoint a = endpoint::parse("127.0.0.1:8080");
  EXPECT_TRUE(a.is_v4());
  EXPECT_EQ(a.port(), 8080);
  EXPECT_EQ(a.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(a, endpoint::v4({127, 0, 0, 1}, 8080));

  const endpoint b = endpoint::parse("[::1]:0");
  EXPECT_TRUE(b.is_v6());
  EXPECT_EQ(b.port(), 0);
  EXPECT_EQ(b.to_string(), "[::1]:0");

  const endpoint c = endpoint::parse("[2001:DB8:0:0:0:0:0:1]:65535");
  EXPECT_EQ(c.to_string(), "[2001:db8::1]:65535");   // RFC 5952 form
  EXPECT_EQ(endpoint::parse(c.to_string()), c);
  EXPECT_EQ(endpoint::parse("[fe80::1%3]:80").scope_id(), 3u);
  EXPECT_EQ(endpoint::parse("[fe80::1%lo]:80").scope_id(), endpoint::parse("[fe80::1%1]:80").scope_id());
  EXPECT_EQ(endpoint::parse("[fe80::1%3]:80").to_string(), "[fe80::1%3]:80");
  EXPECT_EQ(endpoint{}.to_string(), "0.0.0.0:0");
}

TEST(Net, EndpointRejectsBadText) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:99999999999", "127.0.0.1:-1",
                          "127.0.0.1:8o", "1.2.3:80", "256.0.0.1:80", "localhost:80", "::1:80", "[::1]80", "[::1]:",
                          "[::1:80", "[127.0.0.1]:80", "[fe80::1%]:80", "[fe80::1%no-such-if0]:80", " 127.0.0.1:80"}) {
    EXPECT_THROW(endpoint::parse(bad), std::invalid_argument) << bad;
  }
}

TEST(Net, EndpointParseQuotesAtMost64CharactersOfBadInput) {
  const std::string huge(10'000, 'x');
  try {
    (void)endpoint::parse(huge);
    FAIL() << "parse accepted garbage";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_LT(what.size(), 200u) << what;
    EXPECT_NE(what.find(std::string(64, 'x') + "..."), std::string::npos) << what;
  }
}

TEST(Net, EndpointsCompareAndHash) {
  const endpoint a = endpoint::parse("10.0.0.1:80");
  const endpoint b = endpoint::parse("10.0.0.1:81");
  const endpoint c = endpoint::parse("[::1]:80");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);   // IPv4 orders before IPv6
  EXPECT_NE(a, a.with_port(81));
  EXPECT_EQ(a.with_port(81), b);
  std::unordered_set<endpoint> set{a, b, c, a};
  EXPECT_EQ(set.size(), 3u);
}

// -- TCP --------------------------------------------------------------------------------

TEST(Net, EchoRoundTrip) {
  auto rt = multi();
  auto body = []() -> task<std::string> {
    auto listener = std::make_shared<tcp_listener>(tcp_listener::bind(endpoint::parse("127.0.0.1:0")));
    const endpoint where = listener->local_endpoint();
    EXPECT_NE(where.port(), 0);
    auto server = weft::spawn(echo_server(listener, 1));
    tcp_stream client = co_await tcp_stream::connect(where);
    client.set_nodelay(true);
    EXPECT_EQ(client.peer_endpoint(), where);
    std::string out = co_await round_trip(client, "hello, weft");
    const std::string big = co_await round_trip(client, std::string(100'000, 'x'));
    out += "|" + big.substr(0, 3) + std::to_string(big.size());
    co_await server;
    co_return out;
  };
  EXPECT_EQ(rt.block_on(body()), "hello, weft|xxx100000");
}

TEST(Net, EchoOnACurrentThreadRuntime) {
  auto rt = weft::runtime::builder::current_thread().build();
  auto body = []() -> task<std::string> {
    auto listener = std::make_shared<tcp_listener>(tcp_listener::bind(endpoint::parse("127.0.0.1:0")));
    auto server = weft::spawn(echo_server(listener, 1));
    tcp_stream client = co_await tcp_stream::connect(listener->local_endpoint());
    std::string out;
    for (int i = 0; i < 50; ++i) out = co_await round_trip(client, "ping " + std::to_string(i));
    co_return out;
  };
  EXPECT_EQ(rt.block_on(body()), "ping 49");
}

task<bool> one_client(endpoint server, int id) {
  tcp_stream s = co_await tcp_stream::connect(server);
  char message[17];
  std::snprintf(message, sizeof message, "client %09d", id);
  co_return co_await round_trip(s, message) == message;
}

TEST(Net, ThousandConcurrentConnections) {
  constexpr int clients = 1000;
  raise_fd_limit(4 * clients + 256);
  auto rt = multi();
  auto body = []() -> task<int> {
    auto listener = std::make_shared<tcp_listener>(tcp_listener::bind(endpoint::parse("127.0.0.1:0")));
    auto server = weft::spawn(echo_server(listener, clients));
    std::vector<weft::join_handle<bool>> handles;
    handles.reserve(clients);
    for (int i = 0; i < clients; ++i) handles.push_back(weft::spawn(one_client(listener->local_endpoint(), i)));
    int ok = 0;
    for (auto& h : handles) ok += (co_await h) ? 1 : 0;
    co_await server;
    co_return ok;
  };
  EXPECT_EQ(rt.block_on(body()), clients);
}

TEST(Net, HalfCloseLetsThePeerFinishItsReply) {
  auto rt = multi();
  auto server = [](std::shared_ptr<tcp_listener> listener) -> task<void> {
    auto [s, peer] = co_await listener->accept();
    std::string got;
    std::array<std::byte, 1024> buf;
    for (;;) {   // read to the client's FIN
      const std::size_t n = co_await s.read(buf);
      if (n == 0) break;
      got += text_of(std::span(buf.data(), n));
    }
    co_await s.write_all(bytes_of("got " + std::to_string(got.size()) + " bytes: " + got));
  };   // s closes here
  auto body = [&server]() -> task<std::string> {
    auto listener = std::make_shared<tcp_listener>(tcp_listener::bind(endpoint::parse("127.0.0.1:0")));
    auto h = weft::spawn(server(listener));
    tcp_stream client = co_await tcp_stream::connect(listener->local_endpoint());
    co_await client.write_all(bytes_of("request"));
    client.shutdown_write();
    std::string reply;
    std::array<std::byte, 1024> buf;
    for (;;) {
      const std::size_t n = co_await client.read(buf);
      if (n == 0) break;
      reply += text_of(std::span(buf.data(), n));
    }
    co_await h;
    co_return reply;
  };
  EXPECT_EQ(rt.block_on(body()), "got 7 bytes: request");
}

task<void> send_pattern(tcp_stream s, std::size_t total) {
  std::size_t sent = 0;
  while (sent < total) {
    const std::size_t n = std::min(max_chunk, total - sent);
    co_await s.write_all(pattern_at(sent, n));
    sent += n;
  }
}

TEST(Net, LargeTransferArrivesByteForByte) {
  constexpr std::size_t total = 64u << 20;
  auto rt = multi();
  auto body = []() -> task<std::size_t> {
    auto listener = std::make_shared<tcp_listener>(tcp_listener::bind(endpoint::parse("127.0.0.1:0")));
    tcp_stream client = co_await tcp_stream::connect(listener->local_endpoint());
    auto [server_side, peer] = co_await listener->accept();
    auto sender = weft::spawn(send_pattern(std::move(client), total));
    std::vector<std::byte> buf(64 * 1024);
    std::size_t received = 0;
    std::size_t mismatches = 0;   // reads whose bytes differ from what was sent
    for (;;) {
      const std::size_t n = co_await server_side.read(buf);
      if (n == 0) break;
      if (std::memcmp(buf.data(), pattern_at(received, n).data(), n) != 0) ++mismatches;
      received += n;
    }
    co_await sender;
    EXPECT_EQ(mismatches, 0u);
    co_return received;
  };
  EXPECT_EQ(rt.block_on(body()), total);
}

TEST(Net, PeerResetGivesConnectionReset) {
  auto rt = multi();
  auto body = []() -> task<std::error_code> {
    auto listener = std::make_shared<tcp_listener>(tcp_listener::bind(endpoint::parse("127.0.0.1:0")));
    tcp_stream client = co_await tcp_stream::connect(listener->local_endpoint());
    {
      auto [victim, peer] = co_await listener->accept();
      victim.set_linger(std::chrono::seconds(0));
    }   // closed with SO_LINGER 0: RST
    try {
      std::array<std::byte, 16> buf;
      const std::size_t n = co_await client.read(buf);
      ADD_FAILURE() << "read gave " << n << " bytes instead of failing";
    } catch (const std::system_error& e) {
      co_return e.code();
    }
    co_return std::error_code{};
  };
  EXPECT_EQ(rt.block_on(body()), std::errc::connection_reset);
}

TEST(Net, ConnectRefusedGivesConnectionRefused) {
  auto rt = multi();
  auto body = []() -> task<std::error_code> {
    endpoint closed;
    {
      auto probe = tcp_listener::bind(endpoint::parse("127.0.0.1:0"));
      closed = probe.local_endpoint();
    }   // the port is free again, and nobody listens
    try {
      tcp_stream s = co_await tcp_stream::connect(closed);
    } catch (const std::system_error& e) {
      co_return e.code();
    }
    co_return std::error_code{};
  };
  EXPECT_EQ(rt.block_on(body()), std::errc::connection_refused);
}

TEST(Net, WriteToAClosedPeerThrowsInsteadOfRaisingSigpipe) {
  auto rt = multi();
  auto body = []() -> task<std::error_code> {
    auto listener = std::make_shared<tcp_listener>(tcp_listener::bind(endpoint::parse("127.0.0.1:0")));
    tcp_stream client = co_await tcp_stream::connect(listener->local_endpoint());
    { auto accepted = co_await listener->accept(); }   // the peer closes
    const std::vector<std::byte> chunk(64 * 1024);
    try {
      for (int i = 0; i < 10'000; ++i) co_await client.write_all(chunk);   // the RST arrives meanwhile
    } catch (const std::system_error& e) {
      co_return e.code();
    }
    co_return std::error_code{};
  };
  const std::error_code code = rt.block_on(body());
  EXPECT_TRUE(code == std::errc::broken_pipe || code == std::errc::connection_reset) << code.message();
}

TEST(Net, ReadExactThrowsOnEarlyClose) {
  auto rt = multi();
  auto body = []() -> task<std::string> {
    auto listener = std::make_shared<tcp_listener>(tcp_listener::bind(endpoint::parse("127.0.0.1:0")));
    tcp_stream client = co_await tcp_stream::connect(listener->local_endpoint());
    {
      auto [peer_side, peer] = co_await listener->accept();
      co_await peer_side.write_all(bytes_of("abc"));
    }   // closes after 3 bytes
    std::array<std::byte, 10> buf;
    try {
      co_await client.read_exact(buf);
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::connection_reset);
      EXPECT_EQ(text_of(std::span(buf.data(), 3)), "abc");
      co_return e.what();
    }
    co_return "no error";
  };
  EXPECT_NE(rt.block_on(body()).find("unexpected eof after 3 of 10 bytes"), std::string::npos);
}

TEST(Net, Ipv6Loopback) {
  auto rt = multi();
  auto body = []() -> task<std::string> {
    auto listener = std::make_shared<tcp_listener>(tcp_listener::bind(endpoint::parse("[::1]:0")));
    const endpoint where = listener->local_endpoint();
    EXPECT_TRUE(where.is_v6());
    auto server = weft::spawn(echo_server(listener, 1));
    tcp_stream client = co_await tcp_stream::connect(where);
    EXPECT_EQ(client.local_endpoint().to_string().rfind("[::1]:", 0), 0u);
    std::string out = co_await round_trip(client, "over v6");
    co_await server;
    co_return out;
  };
  EXPECT_EQ(rt.block_on(body()), "over v6");
}

TEST(Net, UdpRoundTrip) {
  auto rt = multi();
  auto body = []() -> task<std::string> {
    udp_socket a = udp_socket::bind(endpoint::parse("127.0.0.1:0"));
    udp_socket b = udp_socket::bind(endpoint::parse("127.0.0.1:0"));
    std::array<std::byte, 64> buf;
    // b waits before anything is sent: the receive suspends and is woken.
    auto reply = [](udp_socket& sock) -> task<void> {
      std::array<std::byte, 64> in;
      auto [n, from] = co_await sock.recv_from(in);
      const std::string answer = "re: " + text_of(std::span(in.data(), n));
      co_await sock.send_to(bytes_of(answer), from);
    };
    auto h = weft::spawn(reply(b));
    const std::size_t sent = co_await a.send_to(bytes_of("ping"), b.local_endpoint());
    EXPECT_EQ(sent, 4u);
    auto [n, from] = co_await a.recv_from(buf);
    EXPECT_EQ(from, b.local_endpoint());
    co_await h;
    co_return text_of(std::span(buf.data(), n));
  };
  EXPECT_EQ(rt.block_on(body()), "re: ping");
}

// -- cancellation --------------------------------------------------------------------------

task<std::size_t> read_into(std::shared_ptr<tcp_stream> s, std::shared_ptr<std::vector<std::byte>> sink) {
  std::array<std::byte, 64> buf;
  const std::size_t n = co_await s->read(buf);
  sink->insert(sink->end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  co_return n;
}

TEST(Net, AbortDuringReadKeepsTheSocketAndTheData) {
  auto rt = multi();
  auto body = []() -> task<std::string> {
    auto listener = std::make_shared<tcp_listener>(tcp_listener::bind(endpoint::parse("127.0.0.1:0")));
    tcp_stream client = co_await tcp_stream::connect(listener->local_endpoint());
    auto accepted = co_await listener->accept();
    auto server_side = std::make_shared<tcp_stream>(std::move(accepted.first));
    auto sink = std::make_shared<std::vector<std::byte>>();

    auto doomed = weft::spawn(read_into(server_side, sink));
    for (int i = 0; i < 10; ++i) co_await weft::yield_now();   // let it reach its wait
    doomed.abort();
    auto result = co_await doomed.join();
    EXPECT_FALSE(result.has_value());
    EXPECT_TRUE(sink->empty());

    co_await client.write_all(bytes_of("still here"));
    auto next = weft::spawn(read_into(server_side, sink));
    co_await next;
    co_return text_of(*sink);
  };
  EXPECT_EQ(rt.block_on(body()), "still here");
}

// Aborts readers at random moments while bytes arrive: every byte is either
// in the sink (its read completed) or still in the socket for the next
// reader, never dropped.
TEST(Net, AbortRacingArrivalsLosesNoBytes) {
  auto rt = multi();
  const std::uint64_t seed = weft::test::stress_seed();
  auto body = [](std::uint64_t s) -> task<std::string> {
    std::mt19937_64 rng(s);
    auto listener = std::make_shared<tcp_listener>(tcp_listener::bind(endpoint::parse("127.0.0.1:0")));
    tcp_stream client = co_await tcp_stream::connect(listener->local_endpoint());
    auto accepted = co_await listener->accept();
    auto server_side = std::make_shared<tcp_stream>(std::move(accepted.first));
    auto sink = std::make_shared<std::vector<std::byte>>();
    const std::size_t rounds = weft::test::stress_iterations(300);
    for (std::size_t i = 0; i < rounds; ++i) {
      auto h = weft::spawn(read_into(server_side, sink));
      const std::byte b{static_cast<std::uint8_t>(i)};
      co_await client.write_all(std::span(&b, 1));
      const auto yields = rng() % 4;
      for (std::uint64_t k = 0; k < yields; ++k) co_await weft::yield_now();
      h.abort();
      auto r = co_await h.join();
      (void)r;
    }
    client.shutdown_write();
    while (co_await weft::spawn(read_into(server_side, sink)) != 0) {}
    std::string problems;
    if (sink->size() != rounds) problems += "got " + std::to_string(sink->size()) + " bytes; ";
    for (std::size_t i = 0; i < std::min(sink->size(), rounds); ++i)
      if ((*sink)[i] != std::byte{static_cast<std::uint8_t>(i)}) {
        problems += "byte " + std::to_string(i) + " out of order";
        break;
      }
    co_return problems;
  };
  EXPECT_EQ(rt.block_on(body(seed)), "") << "seed " << seed;
}

TEST(Net, AbortDuringAcceptLeavesTheConnectionForTheNextAccept) {
  auto rt = multi();
  auto accept_one = [](std::shared_ptr<tcp_listener> l) -> task<endpoint> {
    auto [s, peer] = co_await l->accept();
    co_return peer;
  };
  auto body = [&accept_one]() -> task<bool> {
    auto listener = std::make_shared<tcp_listener>(tcp_listener::bind(endpoint::parse("127.0.0.1:0")));
    auto doomed = weft::spawn(accept_one(listener));
    for (int i = 0; i < 10; ++i) co_await weft::yield_now();
    doomed.abort();
    auto r = co_await doomed.join();
    EXPECT_FALSE(r.has_value());
    tcp_stream client = co_await tcp_stream::connect(listener->local_endpoint());
    auto next = weft::spawn(accept_one(listener));
    co_return co_await next == client.local_endpoint();
  };
  EXPECT_TRUE(rt.block_on(body()));
}

// -- the headline: sockets keep answering while the blocking pool is full ---------------

TEST(Net, EchoAnswersWhileTheBlockingPoolIsSaturated) {
  auto rt = weft::runtime::builder::multi_thread().worker_threads(1).max_blocking_threads(2).build();
  std::atomic<bool> release{false};
  struct releaser {   // runs before ~runtime, which waits for the closures
    std::atomic<bool>& flag;
    ~releaser() {
      flag = true;
      flag.notify_all();
    }
  } guard{release};
  auto body = [](std::atomic<bool>* gate) -> task<std::string> {
    std::vector<weft::join_handle<void>> blockers;
    for (int i = 0; i < 6; ++i) {
      auto h = weft::spawn_blocking([gate] { gate->wait(false); });
      blockers.push_back(std::move(h));
    }
    // Both blocking threads are taken and the rest queue behind them.
    const auto deadline = std::chrono::steady_clock::now() + weft::test::max_wait;
    while (weft::handle::current().metrics().blocking_queue_depth < 4) {
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "the blocking pool never filled up";
        break;
      }
      co_await weft::yield_now();
    }

    auto listener = std::make_shared<tcp_listener>(tcp_listener::bind(endpoint::parse("127.0.0.1:0")));
    auto server = weft::spawn(echo_server(listener, 1));
    tcp_stream client = co_await tcp_stream::connect(listener->local_endpoint());
    std::string out;
    for (int i = 0; i < 100; ++i) out = co_await round_trip(client, "tick " + std::to_string(i));
    EXPECT_GE(weft::handle::current().metrics().blocking_queue_depth, 4u);   // still saturated

    gate->store(true);
    gate->notify_all();
    for (auto& h : blockers) co_await h;
    co_return out;
  };
  EXPECT_EQ(rt.block_on(body(&release)), "tick 99");
}

// -- lifetime ----------------------------------------------------------------------------

TEST(Net, OutsideARuntimeThrowsNoRuntime) {
  EXPECT_THROW(tcp_listener::bind(endpoint::parse("127.0.0.1:0")), weft::no_runtime);
  EXPECT_THROW(udp_socket::bind(endpoint::parse("127.0.0.1:0")), weft::no_runtime);
}

TEST(Net, BindToAPortInUseThrowsAddressInUse) {
  auto rt = multi();
  auto body = []() -> task<std::error_code> {
    auto first = tcp_listener::bind(endpoint::parse("127.0.0.1:0"));
    try {
      auto second = tcp_listener::bind(first.local_endpoint());
    } catch (const std::system_error& e) {
      co_return e.code();
    }
    co_return std::error_code{};
  };
  EXPECT_EQ(rt.block_on(body()), std::errc::address_in_use);
}

TEST(Net, BindAndConnectErrorsNameTheEndpoint) {
  auto rt = multi();
  auto body = []() -> task<void> {
    auto first = tcp_listener::bind(endpoint::parse("127.0.0.1:0"));
    const std::string taken = first.local_endpoint().to_string();
    try {
      (void)tcp_listener::bind(first.local_endpoint());
      ADD_FAILURE();
    } catch (const std::system_error& e) {
      EXPECT_NE(std::string(e.what()).find(taken), std::string::npos) << e.what();
    }
    try {
      (void)udp_socket::bind(endpoint::parse("203.0.113.1:0"));   // not an address of this host
      ADD_FAILURE();
    } catch (const std::system_error& e) {
      EXPECT_NE(std::string(e.what()).find("203.0.113.1:0"), std::string::npos) << e.what();
    }
    std::uint16_t closed = 0;
    {
      auto probe = tcp_listener::bind(endpoint::parse("127.0.0.1:0"));
      closed = probe.local_endpoint().port();
    }
    try {
      (void)co_await tcp_stream::connect(endpoint::v4({127, 0, 0, 1}, closed));
      ADD_FAILURE();
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::connection_refused);
      EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(closed)), std::string::npos) << e.what();
    }
  };
  rt.block_on(body());
}

TEST(Net, ASocketMayOutliveItsRuntimeObject) {
  std::unique_ptr<tcp_listener> kept;
  {
    auto rt = multi();
    auto body = []() -> task<tcp_listener> { co_return tcp_listener::bind(endpoint::parse("127.0.0.1:0")); };
    kept = std::make_unique<tcp_listener>(rt.block_on(body()));
  }
  EXPECT_NE(kept->local_endpoint().port(), 0);
  kept.reset();   // deregisters from the reactor the listener kept alive
}

}  // namespace

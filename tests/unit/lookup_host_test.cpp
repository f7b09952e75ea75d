// SPDX-License-Identifier: MIT
// weft::net::lookup_host and tcp_stream::connect(host_and_port). No network:
// only numeric addresses, "localhost" and names from /etc/hosts.
#include <weft/net.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>

#include "weft_task_helpers.hpp"
#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <netdb.h>

namespace {

using weft::task;
using weft::net::endpoint;
using weft::net::lookup_host;
using weft::net::tcp_listener;
using weft::net::tcp_stream;
using weft::test::multi;

bool is_loopback(const endpoint& e) {
  const auto b = e.address_bytes();
  if (e.is_v4()) return b[0] == 127;
  return e == endpoint::parse("[::1]:0").with_port(e.port());
}

/// A name from /etc/hosts other than localhost whose address is loopback.
std::optional<std::string> loopback_name_from_hosts() {
  std::ifstream hosts("/etc/hosts");
  std::string line;
  while (std::getline(hosts, line)) {
    std::istringstream words(line);
    std::string address, name;
    if (!(words >> address) || address.empty() || address[0] == '#') continue;
    if (address.rfind("127.", 0) != 0) continue;
    while (words >> name)
      if (name != "localhost" && name[0] != '#') return name;
  }
  return std::nullopt;
}

TEST(LookupHost, LocalhostGivesLoopbackAddressesWithThePort) {
  auto rt = multi();
  const auto before = rt.metrics().spawned_blocking_tasks;
  const std::vector<endpoint> all = rt.block_on(lookup_host("localhost:8080"));
  ASSERT_FALSE(all.empty());
  for (const endpoint& e : all) {
    EXPECT_TRUE(is_loopback(e)) << e.to_string();
    EXPECT_EQ(e.port(), 8080);
  }
  // getaddrinfo ran on the blocking pool, not on a worker.
  EXPECT_EQ(rt.metrics().spawned_blocking_tasks, before + 1);
}

TEST(LookupHost, NamesFromEtcHosts) {
  const auto name = loopback_name_from_hosts();
  if (!name) GTEST_SKIP() << "/etc/hosts names no loopback host besides localhost";
  auto rt = multi();
  const std::vector<endpoint> all = rt.block_on(lookup_host(*name + ":1"));
  ASSERT_FALSE(all.empty()) << *name;
  for (const endpoint& e : all) EXPECT_TRUE(is_loopback(e)) << e.to_string();
}

TEST(LookupHost, NumericAddressesSkipTheBlockingPool) {
  auto rt = multi();
  const auto before = rt.metrics().spawned_blocking_tasks;
  EXPECT_EQ(rt.block_on(lookup_host("127.0.0.1:80")), std::vector<endpoint>{endpoint::parse("127.0.0.1:80")});
  EXPECT_EQ(rt.block_on(lookup_host("[::1]:443")), std::vector<endpoint>{endpoint::parse("[::1]:443")});
  EXPECT_EQ(rt.metrics().spawned_blocking_tasks, before);
}

TEST(LookupHost, BadTextIsInvalidArgument) {
  auto rt = multi();
  for (const char* bad : {"localhost", "localhost:", "localhost:http", "localhost:65536", ":80", "::1:80", "[::1]80",
                          "[::1", "[localhost]:80"}) {
    EXPECT_THROW(rt.block_on(lookup_host(bad)), std::invalid_argument) << bad;
  }
}

TEST(LookupHost, UnknownHostIsAGetaddrinfoErrorNamingTheHost) {
  auto rt = multi();
  // .invalid is reserved (RFC 6761): it never resolves.
  try {
    (void)rt.block_on(lookup_host("no-such-host.invalid:80"));
    FAIL() << "resolved a .invalid name";
  } catch (const std::system_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("no-such-host.invalid"), std::string::npos) << what;
    if (e.code().category() == weft::net::getaddrinfo_category()) {
      EXPECT_STREQ(e.code().category().name(), "getaddrinfo");
      EXPECT_NE(what.find(::gai_strerror(e.code().value())), std::string::npos) << what;
    } else {
      EXPECT_EQ(e.code().category(), std::generic_category()) << what;   // EAI_SYSTEM
    }
  }
}

TEST(LookupHost, ConnectByName) {
  auto rt = multi();
  auto body = []() -> task<void> {
    auto listener = tcp_listener::bind(endpoint::parse("127.0.0.1:0"));
    const std::string where = "localhost:" + std::to_string(listener.local_endpoint().port());
    tcp_stream client = co_await tcp_stream::connect(where);
    auto [server_side, peer] = co_await listener.accept();
    EXPECT_EQ(peer, client.local_endpoint());
  };
  rt.block_on(body());
}

TEST(LookupHost, ConnectByNameThrowsTheLastAddressError) {
  auto rt = multi();
  auto body = []() -> task<void> {
    std::uint16_t port = 0;
    {
      auto probe = tcp_listener::bind(endpoint::parse("127.0.0.1:0"));
      port = probe.local_endpoint().port();
    }   // closed: nobody listens there now
    try {
      (void)co_await tcp_stream::connect("localhost:" + std::to_string(port));
      ADD_FAILURE() << "connected to a closed port";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::connection_refused) << e.what();
      EXPECT_NE(std::string(e.what()).find(std::to_string(port)), std::string::npos) << e.what();
    }
  };
  rt.block_on(body());
}

}  // namespace

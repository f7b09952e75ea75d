// SPDX-License-Identifier: MIT
// weft::net::unix_listener, unix_stream, unix_datagram: filesystem paths and
// Linux abstract names, errors that name the path, fd exhaustion at accept.
#include <weft/net.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>

#include "weft_os_helpers.hpp"
#include "weft_task_helpers.hpp"
#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <unistd.h>

namespace {

using weft::task;
using weft::net::unix_datagram;
using weft::net::unix_listener;
using weft::net::unix_stream;
using weft::test::multi;

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

/// A unique abstract name for this process and `tag`.
std::string abstract_name(std::string_view tag) {
  return "@weft-test-" + std::to_string(::getpid()) + "-" + std::string(tag);
}

/// Echoes one connection until the peer closes.
task<void> echo_one(std::shared_ptr<unix_listener> listener) {
  auto [stream, peer] = co_await listener->accept();
  EXPECT_EQ(peer, "");   // clients are unbound
  std::array<std::byte, 4096> buf;
  for (;;) {
    const std::size_t n = co_await stream.read(buf);
    if (n == 0) co_return;
    co_await stream.write_all(std::span(buf.data(), n));
  }
}

task<std::string> round_trip(std::string path, std::string message) {
  unix_stream client = co_await unix_stream::connect(path);
  co_await client.write_all(bytes_of(message));
  client.shutdown_write();
  std::string back(message.size(), '\0');
  co_await client.read_exact(std::as_writable_bytes(std::span(back)));
  std::array<std::byte, 1> extra;
  EXPECT_EQ(co_await client.read(extra), 0u);   // the server closed after our FIN
  co_return back;
}

task<std::string> echo_via(std::string path) {
  auto listener = std::make_shared<unix_listener>(unix_listener::bind(path));
  EXPECT_EQ(listener->local_path(), path);
  auto server = weft::spawn(echo_one(listener));
  std::string back = co_await round_trip(path, std::string(200'000, 'u'));
  co_await server;
  co_return back;
}

TEST(NetUnix, StreamEchoOnAFilesystemPath) {
  weft::test::temp_dir dir;
  const std::string path = dir.file("echo.sock");
  auto rt = multi();
  EXPECT_EQ(rt.block_on(echo_via(path)), std::string(200'000, 'u'));
  // The socket file stays: weft never unlinks it, on bind or on close.
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(NetUnix, StreamEchoOnAnAbstractName) {
  const std::string name = abstract_name("echo");
  auto rt = multi();
  EXPECT_EQ(rt.block_on(echo_via(name)), std::string(200'000, 'u'));
  EXPECT_FALSE(std::filesystem::exists(name)) << "an abstract name creates no file";
}

TEST(NetUnix, BindOnAnExistingFileIsAddrInUseAndLeavesIt) {
  weft::test::temp_dir dir;
  auto rt = multi();
  auto body = [&]() -> task<void> {
    // A regular file.
    const std::string file = dir.file("plain");
    std::ofstream(file) << "keep me";
    try {
      (void)unix_listener::bind(file);
      ADD_FAILURE() << "bind on a regular file succeeded";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::address_in_use);
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    }
    EXPECT_TRUE(std::filesystem::is_regular_file(file));
    // A stale socket: its listener is gone, the file stays; nobody listens.
    const std::string stale = dir.file("stale.sock");
    { auto gone = unix_listener::bind(stale); }
    EXPECT_THROW((void)unix_listener::bind(stale), std::system_error);
    EXPECT_THROW((void)unix_datagram::bind(stale), std::system_error);
    try {
      (void)co_await unix_stream::connect(stale);
      ADD_FAILURE() << "connected to a stale socket";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::connection_refused);
      EXPECT_NE(std::string(e.what()).find(stale), std::string::npos) << e.what();
    }
    // A taken abstract name.
    const std::string name = abstract_name("taken");
    auto first = unix_listener::bind(name);
    try {
      (void)unix_listener::bind(name);
      ADD_FAILURE() << "bound a taken abstract name";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::address_in_use);
    }
  };
  rt.block_on(body());
}

TEST(NetUnix, BadPathsNameThePath) {
  weft::test::temp_dir dir;
  auto rt = multi();
  auto body = [&]() -> task<void> {
    const std::string missing = dir.file("nobody-here.sock");
    try {
      (void)co_await unix_stream::connect(missing);
      ADD_FAILURE();
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
      EXPECT_NE(std::string(e.what()).find("weft::net::unix_stream::connect"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
    }
    const std::string too_long = "/tmp/" + std::string(200, 'x');
    try {
      (void)unix_listener::bind(too_long);
      ADD_FAILURE();
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::filename_too_long);
    }
    EXPECT_THROW((void)unix_listener::bind(""), std::system_error);
    EXPECT_THROW((void)unix_listener::bind(std::string("/tmp/a\0b", 8)), std::system_error);
    EXPECT_THROW((void)unix_listener::bind(dir.file("no/such/dir.sock")), std::system_error);
  };
  rt.block_on(body());
}

TEST(NetUnix, DatagramsCarryTheSendersPath) {
  weft::test::temp_dir dir;
  auto rt = multi();
  auto body = [&]() -> task<void> {
    const std::string a_path = dir.file("a.sock");
    const std::string b_name = abstract_name("dgram-b");
    auto a = unix_datagram::bind(a_path);
    auto b = unix_datagram::bind(b_name);
    EXPECT_EQ(a.local_path(), a_path);
    EXPECT_EQ(b.local_path(), b_name);
    EXPECT_EQ(co_await a.send_to(bytes_of("ping"), b_name), 4u);
    std::array<std::byte, 64> buf;
    auto [n, from] = co_await b.recv_from(buf);
    EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(buf.data()), n), "ping");
    EXPECT_EQ(from, a_path);
    EXPECT_EQ(co_await b.send_to(bytes_of("pong!"), from), 5u);
    auto [m, back_from] = co_await a.recv_from(buf);
    EXPECT_EQ(m, 5u);
    EXPECT_EQ(back_from, b_name);
    // Nobody at the destination: an error naming it.
    const std::string nobody = dir.file("nobody.sock");
    try {
      (void)co_await a.send_to(bytes_of("x"), nobody);
      ADD_FAILURE();
    } catch (const std::system_error& e) {
      EXPECT_NE(std::string(e.what()).find(nobody), std::string::npos) << e.what();
    }
  };
  rt.block_on(body());
}

TEST(NetUnix, DatagramReceiveWaitsForTheSender) {
  auto rt = multi();
  auto body = []() -> task<std::string> {
    auto receiver = std::make_shared<unix_datagram>(unix_datagram::bind(abstract_name("wait-r")));
    auto waiting = weft::spawn([](std::shared_ptr<unix_datagram> r) -> task<std::string> {
      std::array<std::byte, 16> buf;
      auto [n, from] = co_await r->recv_from(buf);
      co_return std::string(reinterpret_cast<const char*>(buf.data()), n);
    }(receiver));
    co_await weft::test::yield_times(20);   // let it suspend first
    auto sender = unix_datagram::bind(abstract_name("wait-s"));
    co_await sender.send_to(bytes_of("late"), abstract_name("wait-r"));
    co_return co_await waiting;
  };
  EXPECT_EQ(rt.block_on(body()), "late");
}

// Fd exhaustion at accept: a clear EMFILE, the connection stays queued, and
// the same listener accepts it once descriptors are free.
TEST(NetUnix, AcceptRecoversFromFdExhaustion) {
  auto rt = multi();
  auto body = []() -> task<void> {
    const std::string name = abstract_name("emfile");
    auto listener = unix_listener::bind(name);
    unix_stream client = co_await unix_stream::connect(name);
    std::exception_ptr failure;
    {
      weft::test::fd_exhaustion no_fds;
      try {
        (void)co_await listener.accept();
      } catch (...) {
        failure = std::current_exception();
      }
    }
    const auto [code, what] = weft::test::system_error_of(failure);   // descriptors free again
    EXPECT_EQ(code, std::errc::too_many_files_open) << what;
    auto [server_side, peer] = co_await listener.accept();
    co_await client.write_all(bytes_of("after"));
    std::array<std::byte, 5> buf;
    co_await server_side.read_exact(buf);
    EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(buf.data()), 5), "after");
  };
  rt.block_on(body());
}

}  // namespace

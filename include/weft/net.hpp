// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::net`: TCP, UDP and Unix domain sockets driven by the runtime's epoll
/// reactor; `endpoint`, an IPv4 or IPv6 address with a port; and
/// `lookup_host`, name resolution on the blocking pool.
///
/// Every socket is non-blocking, close-on-exec, and registered with the
/// reactor of the runtime it was created in, which it keeps alive. An
/// operation first tries its syscall; only if that would block does the task
/// suspend until the reactor reports readiness, then it tries again. No
/// worker thread ever blocks in a socket call. Writes never raise SIGPIPE: a
/// write to a closed connection throws EPIPE instead.

#include <weft/detail/io_object.hpp>
#include <weft/task.hpp>

#include <array>
#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace weft {

namespace net {

class tcp_stream;
class unix_stream;

/// An IPv4 or IPv6 socket address: address, port, and for IPv6 a scope id.
///
/// Endpoints are values: cheap to copy, totally ordered (IPv4 before IPv6,
/// then by address bytes, port and scope) and hashable.
///
/// Example:
///     auto ep = weft::net::endpoint::parse("127.0.0.1:8080");
///     ep.port();         // 8080
///     ep.to_string();    // "127.0.0.1:8080"
struct endpoint {
  /// 0.0.0.0:0, the IPv4 unspecified address.
  endpoint() noexcept = default;
  /// An IPv4 endpoint from the address bytes in network order (a.b.c.d).
  static endpoint v4(std::array<std::uint8_t, 4> address, std::uint16_t port) noexcept;
  /// An IPv6 endpoint from the 16 address bytes in network order.
  static endpoint v6(const std::array<std::uint8_t, 16>& address, std::uint16_t port,
                     std::uint32_t scope_id = 0) noexcept;

  /// Parses "a.b.c.d:port" or "[ipv6]:port" ("[fe80::1%eth0]:80" names a
  /// scope by interface name or number). Numeric addresses only: no name
  /// resolution.
  /// Errors: std::invalid_argument on bad text or a port over 65535.
  static endpoint parse(std::string_view text);

  /// True for an IPv4 endpoint.
  bool is_v4() const noexcept { return !is_v6_; }
  /// True for an IPv6 endpoint.
  bool is_v6() const noexcept { return is_v6_; }
  /// The port, in host byte order.
  std::uint16_t port() const noexcept { return port_; }
  /// The same address with another port.
  endpoint with_port(std::uint16_t port) const noexcept {
    endpoint e = *this;
    e.port_ = port;
    return e;
  }
  /// The address bytes in network order: 4 for IPv4, 16 for IPv6.
  std::span<const std::uint8_t> address_bytes() const noexcept {
    return std::span<const std::uint8_t>(bytes_.data(), is_v6_ ? 16u : 4u);
  }
  /// The IPv6 scope (an interface index); 0 for none, and always 0 for IPv4.
  std::uint32_t scope_id() const noexcept { return scope_id_; }

  /// "127.0.0.1:8080", "[::1]:443", "[fe80::1%2]:80" (RFC 5952 form; the
  /// scope as a number). parse(to_string()) gives the endpoint back.
  std::string to_string() const;

  /// Orders IPv4 before IPv6, then by address bytes, port and scope; equal when
  /// all of them are (so endpoints work as keys of ordered containers).
  friend auto operator<=>(const endpoint&, const endpoint&) = default;

private:
  bool is_v6_ = false;
  std::array<std::uint8_t, 16> bytes_{};   // IPv4 uses the first 4
  std::uint16_t port_ = 0;
  std::uint32_t scope_id_ = 0;
};

/// A TCP socket listening for connections.
///
/// Thread safety: several tasks may accept on one listener at once; each
/// connection goes to one of them.
class tcp_listener {
public:
  /// Binds to `local` (port 0 picks a free port; see local_endpoint()) with
  /// SO_REUSEADDR and starts listening (backlog SOMAXCONN).
  /// Preconditions: called inside a runtime; the listener stays tied to it.
  /// Errors: weft::no_runtime outside a runtime; std::system_error with the
  /// errno, e.g. EADDRINUSE, EACCES, EADDRNOTAVAIL.
  static tcp_listener bind(const endpoint& local);

  /// Waits for the next connection and gives it with the peer's endpoint.
  /// The accepted stream is non-blocking and close-on-exec.
  ///
  /// Resumes on: the calling worker if a connection is already queued;
  /// otherwise a worker of the runtime, after the reactor saw one arrive.
  /// Cancellation: a cancelled accept takes no connection from the backlog;
  /// the next accept() gets it.
  /// Errors: std::system_error with the errno, e.g. EMFILE when out of
  /// descriptors (ECONNABORTED and EINTR are retried, not thrown);
  /// std::logic_error if awaited outside a weft task.
  [[nodiscard]] task<std::pair<tcp_stream, endpoint>> accept();

  /// The address the listener is bound to (with the port chosen for port 0).
  /// Errors: std::system_error with the errno.
  endpoint local_endpoint() const;

  /// The socket's descriptor, for options weft has no call for. Do not close it.
  int native_handle() const noexcept { return io_.fd(); }

private:
  explicit tcp_listener(detail::io_object io) noexcept : io_(std::move(io)) {}
  detail::io_object io_;
};

/// A connected TCP stream. Move-only; destroying it closes the connection.
///
/// Thread safety: one task may read while another writes (the two directions
/// wait independently). Concurrent reads, or concurrent writes, are allowed
/// but interleave in no particular order.
class tcp_stream {
public:
  /// Connects to `peer`. Taken by value: a coroutine's reference parameters
  /// dangle once the caller's full-expression ends.
  ///
  /// Resumes on: a worker of the runtime, once the handshake finished.
  /// Cancellation: the half-open socket is closed; the peer may see a
  /// connection that is reset at once.
  /// Errors: std::system_error with the errno: ECONNREFUSED, ETIMEDOUT,
  /// ENETUNREACH, EHOSTUNREACH, ...; weft::no_runtime outside a runtime.
  [[nodiscard]] static task<tcp_stream> connect(endpoint peer);

  /// Resolves `host_and_port` with lookup_host ("db.example:5432",
  /// "localhost:8080", "[::1]:80") and connects to each address in turn
  /// until one accepts.
  ///
  /// Resumes on: a worker of the runtime.
  /// Cancellation: as connect(endpoint); a resolution still running on the
  /// blocking pool finishes there and its result is dropped.
  /// Errors: as lookup_host if resolution fails; otherwise, if no address
  /// accepts, the last address's std::system_error.
  ///
  /// Example:
  ///     auto db = co_await weft::net::tcp_stream::connect(std::string("localhost:5432"));
  [[nodiscard]] static task<tcp_stream> connect(std::string host_and_port);

  /// Reads at most `buffer.size()` bytes: as many as are available, waiting
  /// only if none are. 0 means the peer closed its side (or `buffer` is
  /// empty).
  ///
  /// Resumes on: the calling worker if bytes are already there; otherwise a
  /// worker of the runtime after the reactor saw data arrive.
  /// Cancellation: cancel-safe. The bytes are taken from the socket only
  /// when the read completes: a read cancelled while it waits has consumed
  /// nothing, and the next read gets the data.
  /// Errors: std::system_error with the errno, e.g. ECONNRESET when the peer
  /// reset the connection.
  [[nodiscard]] task<std::size_t> read(std::span<std::byte> buffer);

  /// Writes at most `bytes.size()` bytes: as many as the socket buffer takes,
  /// waiting only if it takes none. Gives how many were written.
  ///
  /// Resumes on: the calling worker if there was room; otherwise a worker of
  /// the runtime after the reactor saw room.
  /// Cancellation: cancel-safe: a write cancelled while it waits sent nothing.
  /// Errors: std::system_error with the errno: EPIPE once the connection is
  /// closed for writing (never SIGPIPE), ECONNRESET.
  [[nodiscard]] task<std::size_t> write(std::span<const std::byte> bytes);

  /// Reads until `buffer` is full.
  ///
  /// Resumes on: as read().
  /// Cancellation: not cancel-safe: a cancelled read_exact may have consumed
  /// a prefix of the message (it is in `buffer`, its length unknown).
  /// Errors: std::system_error with the errno as read(); if the peer closes
  /// before `buffer` is full, std::system_error with
  /// std::errc::connection_reset and a what() that says "unexpected eof" —
  /// for a caller expecting a whole message, an early close is a broken
  /// connection. The bytes received before are in `buffer`.
  [[nodiscard]] task<void> read_exact(std::span<std::byte> buffer);

  /// Writes all of `bytes`.
  ///
  /// Resumes on: as write().
  /// Cancellation: not cancel-safe: a cancelled write_all may have sent a
  /// prefix of `bytes`.
  /// Errors: as write().
  [[nodiscard]] task<void> write_all(std::span<const std::byte> bytes);

  /// Turns Nagle's algorithm off (true) or on (TCP_NODELAY).
  /// Errors: std::system_error with the errno.
  void set_nodelay(bool enabled);

  /// SO_LINGER: nullopt (the default) closes in the background; a duration
  /// of zero makes closing the stream reset the connection (RST), and the
  /// peer's reads then fail with ECONNRESET.
  /// Errors: std::system_error with the errno.
  void set_linger(std::optional<std::chrono::seconds> linger);

  /// Closes the writing half (FIN): the peer's reads then return 0 once they
  /// have drained what was sent; this stream can still read.
  /// Errors: std::system_error with the errno (e.g. ENOTCONN).
  void shutdown_write();

  /// Errors: std::system_error with the errno.
  endpoint local_endpoint() const;
  /// Errors: std::system_error with the errno (ENOTCONN once reset).
  endpoint peer_endpoint() const;

  /// The socket's descriptor, for options weft has no call for. Do not close it.
  int native_handle() const noexcept { return io_.fd(); }

private:
  friend class tcp_listener;
  explicit tcp_stream(detail::io_object io) noexcept : io_(std::move(io)) {}
  detail::io_object io_;
};

/// A UDP socket.
///
/// Thread safety: several tasks may send and receive on one socket at once;
/// each datagram goes to one receiver.
class udp_socket {
public:
  /// Binds to `local` (port 0 picks a free port; see local_endpoint()).
  /// Errors: weft::no_runtime outside a runtime; std::system_error with the
  /// errno, e.g. EADDRINUSE.
  static udp_socket bind(const endpoint& local);

  /// Sends one datagram to `peer`; gives the bytes sent (all of them).
  ///
  /// Resumes on: the calling worker if the send buffer had room; otherwise a
  /// worker of the runtime after the reactor saw room.
  /// Cancellation: cancel-safe: a send cancelled while it waits sent nothing.
  /// Errors: std::system_error with the errno, e.g. EMSGSIZE,
  /// EAFNOSUPPORT (an IPv6 peer for an IPv4 socket), ECONNREFUSED (an ICMP
  /// error from an earlier datagram).
  [[nodiscard]] task<std::size_t> send_to(std::span<const std::byte> datagram, const endpoint& peer);

  /// Receives one datagram into `buffer` and gives its length and sender. A
  /// datagram longer than `buffer` is truncated to it (the rest is lost).
  ///
  /// Resumes on: the calling worker if a datagram is queued; otherwise a
  /// worker of the runtime after the reactor saw one arrive.
  /// Cancellation: cancel-safe: a receive cancelled while it waits takes no
  /// datagram.
  /// Errors: std::system_error with the errno.
  [[nodiscard]] task<std::pair<std::size_t, endpoint>> recv_from(std::span<std::byte> buffer);

  /// Errors: std::system_error with the errno.
  endpoint local_endpoint() const;

  /// The socket's descriptor, for options weft has no call for. Do not close it.
  int native_handle() const noexcept { return io_.fd(); }

private:
  explicit udp_socket(detail::io_object io) noexcept : io_(std::move(io)) {}
  task<std::size_t> send_to_copy(std::span<const std::byte> datagram, endpoint peer);
  detail::io_object io_;
};

/// Every address `host_and_port` resolves to, in getaddrinfo's order (IPv4
/// and IPv6; one entry per address). "host:port" or "[ipv6]:port"; the port
/// is a number. A numeric address ("127.0.0.1:80", "[::1]:80") is returned
/// at once without resolution; anything else runs getaddrinfo on the blocking
/// pool (spawn_blocking), as tokio::net::lookup_host does, so no worker
/// blocks on DNS.
///
/// Resumes on: the calling worker for a numeric address; otherwise a worker
/// of the runtime after the blocking pool resolved the name.
/// Cancellation: getaddrinfo cannot be interrupted: a cancelled lookup that
/// has started finishes on its pool thread and its result is dropped; one
/// that has not started never runs.
/// Errors: std::invalid_argument if the text has no ":port" or the port is
/// not a number from 0 to 65535; std::system_error whose category is named
/// "getaddrinfo" (code: the EAI_* value) and whose what() holds
/// gai_strerror's text and the host, e.g. "weft::net::lookup_host:
/// nosuch.invalid: Name or service not known" (EAI_SYSTEM gives the errno
/// in the generic category instead); weft::no_runtime outside a runtime.
///
/// Example:
///     for (const auto& ep : co_await weft::net::lookup_host("localhost:8080"))
///       std::cout << ep.to_string() << '\n';
[[nodiscard]] task<std::vector<endpoint>> lookup_host(std::string host_and_port);

/// The std::error_category of getaddrinfo's EAI_* codes: name() is
/// "getaddrinfo", message() is gai_strerror's text.
const std::error_category& getaddrinfo_category() noexcept;

/// A Unix domain stream socket listening for connections.
///
/// Paths: a filesystem path, or a name beginning with '@' for a Linux
/// abstract socket ("@weft-test": no file, gone when the last socket closes).
/// At most 107 bytes.
///
/// Thread safety: several tasks may accept on one listener at once; each
/// connection goes to one of them.
///
/// Example:
///     auto listener = weft::net::unix_listener::bind("/run/app.sock");
///     auto [stream, peer] = co_await listener.accept();
class unix_listener {
public:
  /// Binds to `path` and starts listening (backlog SOMAXCONN).
  /// Preconditions: called inside a runtime; the listener stays tied to it.
  /// Errors: weft::no_runtime outside a runtime; std::system_error with the
  /// errno and the path in what(): EADDRINUSE if a file (a stale socket
  /// included) already exists at `path` — weft never unlinks it for you —
  /// or the abstract name is taken; ENAMETOOLONG over 107 bytes; ENOENT,
  /// EACCES for a bad directory.
  static unix_listener bind(const std::string& path);

  /// Waits for the next connection and gives it with the peer's path (empty
  /// for an unbound client, which is the usual case).
  ///
  /// Resumes on: the calling worker if a connection is already queued;
  /// otherwise a worker of the runtime, after the reactor saw one arrive.
  /// Cancellation: a cancelled accept takes no connection from the backlog.
  /// Errors: std::system_error with the errno, e.g. EMFILE when out of
  /// descriptors — the connection stays queued and a later accept() takes it
  /// once descriptors are free.
  [[nodiscard]] task<std::pair<unix_stream, std::string>> accept();

  /// The path (or "@name") the listener is bound to.
  std::string local_path() const;

  /// The socket's descriptor, for options weft has no call for. Do not close it.
  int native_handle() const noexcept { return io_.fd(); }

private:
  explicit unix_listener(detail::io_object io) noexcept : io_(std::move(io)) {}
  detail::io_object io_;
};

/// A connected Unix domain stream socket. Move-only; destroying it closes
/// the connection. Same operations, waits and errors as tcp_stream.
///
/// Thread safety: one task may read while another writes.
class unix_stream {
public:
  /// Connects to the listener at `path` ("@name": abstract).
  /// Resumes on: a worker of the runtime.
  /// Errors: std::system_error with the errno and the path: ENOENT (no such
  /// file), ECONNREFUSED (nobody listens: e.g. a stale socket file), EAGAIN
  /// (the listener's backlog is full); weft::no_runtime outside a runtime.
  [[nodiscard]] static task<unix_stream> connect(std::string path);

  /// As tcp_stream::read: at most `buffer.size()` bytes, 0 = peer closed. Cancel-safe.
  [[nodiscard]] task<std::size_t> read(std::span<std::byte> buffer);
  /// As tcp_stream::write (EPIPE, never SIGPIPE). Cancel-safe.
  [[nodiscard]] task<std::size_t> write(std::span<const std::byte> bytes);
  /// As tcp_stream::read_exact (early EOF: std::errc::connection_reset).
  [[nodiscard]] task<void> read_exact(std::span<std::byte> buffer);
  /// As tcp_stream::write_all.
  [[nodiscard]] task<void> write_all(std::span<const std::byte> bytes);
  /// Closes the writing half: the peer reads 0 after the data sent.
  /// Errors: std::system_error with the errno.
  void shutdown_write();

  /// The local and the peer's path ("" when unbound, "@name" when abstract).
  std::string local_path() const;
  /// The peer's path ("" when unbound, "@name" when abstract).
  /// Errors: std::system_error with the errno.
  std::string peer_path() const;

  /// The socket's descriptor, for options weft has no call for. Do not close it.
  int native_handle() const noexcept { return io_.fd(); }

private:
  friend class unix_listener;
  explicit unix_stream(detail::io_object io) noexcept : io_(std::move(io)) {}
  detail::io_object io_;
};

/// A Unix domain datagram socket, bound to a path or an abstract "@name".
///
/// Thread safety: several tasks may send and receive on one socket at once;
/// each datagram goes to one receiver.
///
/// Example:
///     auto a = weft::net::unix_datagram::bind("@weft-a");
///     co_await a.send_to(bytes, "@weft-b");
class unix_datagram {
public:
  /// Errors: as unix_listener::bind (EADDRINUSE on an existing file).
  static unix_datagram bind(const std::string& path);

  /// Sends one datagram to the socket bound at `path`; gives its size.
  /// Resumes on: the calling worker if the peer had room; otherwise a worker
  /// after the reactor saw room. Cancellation: cancel-safe.
  /// Errors: std::system_error with the errno and the path: ENOENT,
  /// ECONNREFUSED (nobody bound there), EMSGSIZE.
  [[nodiscard]] task<std::size_t> send_to(std::span<const std::byte> datagram, std::string path);

  /// Receives one datagram (truncated to `buffer`) and gives its length and
  /// the sender's path ("" if the sender is unbound).
  /// Cancellation: cancel-safe: a cancelled receive takes no datagram.
  /// Errors: std::system_error with the errno.
  [[nodiscard]] task<std::pair<std::size_t, std::string>> recv_from(std::span<std::byte> buffer);

  /// The path (or "@name") it is bound to.
  std::string local_path() const;

  /// The socket's descriptor, for options weft has no call for. Do not close it.
  int native_handle() const noexcept { return io_.fd(); }

private:
  explicit unix_datagram(detail::io_object io) noexcept : io_(std::move(io)) {}
  detail::io_object io_;
};

}  // namespace net
}  // namespace weft

/// Hashes all of an endpoint (family, address, port, scope).
template <>
struct std::hash<weft::net::endpoint> {
  /// Hashes `e`; equal endpoints hash equal.
  std::size_t operator()(const weft::net::endpoint& e) const noexcept {
    std::size_t h = e.is_v6() ? 0x9e3779b97f4a7c15u : 0;
    for (const std::uint8_t b : e.address_bytes()) h = (h ^ b) * 0x100000001b3u;
    h = (h ^ e.port()) * 0x100000001b3u;
    return (h ^ e.scope_id()) * 0x100000001b3u;
  }
};

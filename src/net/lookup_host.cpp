// SPDX-License-Identifier: MIT
// weft::net::lookup_host: getaddrinfo is a blocking C call (it may read files
// and wait for DNS), so it runs on the blocking pool, as Tokio's lookup_host
// does; numeric addresses skip it. Also tcp_stream::connect(host_and_port),
// which tries each resolved address in turn.
#include <weft/join_handle.hpp>
#include <weft/net.hpp>
#include <weft/spawn.hpp>

#include "blocking/abort_if_unstarted.hpp"
#include "net/socket_ops.hpp"

#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

namespace weft::net {

namespace {

class getaddrinfo_error_category final : public std::error_category {
public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int code) const override { return ::gai_strerror(code); }
};

[[noreturn]] void bad_text(std::string_view text, const char* why) {
  // Cut to a readable length: the text may be anything a user typed.
  const std::string shown = text.size() > 64 ? std::string(text.substr(0, 64)) + "..." : std::string(text);
  throw std::invalid_argument("weft::net::lookup_host: " + std::string(why) + ": \"" + shown + "\"");
}

struct host_port {
  std::string host;
  std::string port;
  bool bracketed = false;
};

/// Splits "host:port" / "[v6]:port"; the port must be a decimal 0..65535.
host_port split(std::string_view text) {
  host_port out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      bad_text(text, "expected \"[ipv6]:port\"");
    out.host = std::string(text.substr(1, close - 1));
    out.bracketed = true;
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) bad_text(text, "missing \":port\"");
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) bad_text(text, "an IPv6 address needs brackets");
    port = text.substr(colon + 1);
  }
  if (out.host.empty()) bad_text(text, "missing host");
  if (port.empty() || port.size() > 5) bad_text(text, "port is not a number from 0 to 65535");
  unsigned value = 0;
  for (const char c : port) {
    if (c < '0' || c > '9') bad_text(text, "port is not a number from 0 to 65535");
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) bad_text(text, "port is not a number from 0 to 65535");
  out.port = std::string(port);
  return out;
}

bool is_numeric_v4(const std::string& host) {
  in_addr a;
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1;
}

/// The blocking half, on a pool thread.
std::vector<endpoint> resolve(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;   // one entry per address, not one per socket type
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &list);
  if (rc != 0) {
    const std::string what = "weft::net::lookup_host: " + host;
    if (rc == EAI_SYSTEM) throw std::system_error(errno, std::generic_category(), what);
    throw std::system_error(rc, getaddrinfo_category(), what);
  }
  std::vector<endpoint> out;
  for (const addrinfo* ai = list; ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    out.push_back(detail::from_sockaddr(ss));
  }
  ::freeaddrinfo(list);
  return out;
}

}  // namespace

const std::error_category& getaddrinfo_category() noexcept {
  static const getaddrinfo_error_category category;
  return category;
}

task<std::vector<endpoint>> lookup_host(std::string host_and_port) {
  host_port parts = split(host_and_port);
  if (parts.bracketed || is_numeric_v4(parts.host)) co_return std::vector<endpoint>{endpoint::parse(host_and_port)};
  // g++ 12 destroys a capturing lambda temporary in a co_await twice: name the handle.
  auto job =
      spawn_blocking([host = std::move(parts.host), port = std::move(parts.port)] { return resolve(host, port); });
  detail::abort_if_unstarted guard(job);
  co_return co_await job;
}

task<tcp_stream> tcp_stream::connect(std::string host_and_port) {
  const std::vector<endpoint> addresses = co_await lookup_host(std::move(host_and_port));
  std::exception_ptr last;
  for (const endpoint& address : addresses) {
    try {
      co_return co_await connect(address);
    } catch (const std::system_error&) {
      last = std::current_exception();
    }
  }
  if (last) std::rethrow_exception(last);
  throw std::system_error(EAI_NONAME, getaddrinfo_category(), "weft::net::tcp_stream::connect: no address");
}

}  // namespace weft::net

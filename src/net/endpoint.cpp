// SPDX-License-Identifier: MIT
// net::endpoint: parsing and printing with inet_pton/inet_ntop (numeric
// addresses only; weft does no name resolution here).
#include <weft/net.hpp>

#include <cstring>
#include <stdexcept>
#include <string>

#include <arpa/inet.h>
#include <net/if.h>

namespace weft::net {

namespace {

[[noreturn]] void bad(std::string_view text, const char* why) {
  // Quote at most 64 characters: the input may be anything a peer sent.
  constexpr std::size_t max_quoted = 64;
  std::string quoted(text.substr(0, max_quoted));
  if (text.size() > max_quoted) quoted += "...";
  throw std::invalid_argument("weft::net::endpoint::parse: " + std::string(why) + ": \"" + quoted + "\"");
}

/// Parses a decimal number of at most `max`; nullopt on anything else.
std::optional<std::uint32_t> parse_number(std::string_view digits, std::uint32_t max) {
  if (digits.empty() || digits.size() > 10) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > max) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

std::uint16_t parse_port(std::string_view whole, std::string_view digits) {
  if (digits.empty()) bad(whole, "missing port");
  const auto port = parse_number(digits, 65535);
  if (!port) bad(whole, "port is not a number from 0 to 65535");
  return static_cast<std::uint16_t>(*port);
}

}  // namespace

endpoint endpoint::v4(std::array<std::uint8_t, 4> address, std::uint16_t port) noexcept {
  endpoint e;
  std::memcpy(e.bytes_.data(), address.data(), 4);
  e.port_ = port;
  return e;
}

endpoint endpoint::v6(const std::array<std::uint8_t, 16>& address, std::uint16_t port,
                      std::uint32_t scope_id) noexcept {
  endpoint e;
  e.is_v6_ = true;
  e.bytes_ = address;
  e.port_ = port;
  e.scope_id_ = scope_id;
  return e;
}

endpoint endpoint::parse(std::string_view text) {
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) bad(text, "missing ']'");
    if (close + 1 >= text.size() || text[close + 1] != ':') bad(text, "missing ':' and port after ']'");
    const std::uint16_t port = parse_port(text, text.substr(close + 2));
    std::string_view host = text.substr(1, close - 1);
    std::uint32_t scope = 0;
    if (const std::size_t percent = host.find('%'); percent != std::string_view::npos) {
      const std::string_view zone = host.substr(percent + 1);
      host = host.substr(0, percent);
      if (zone.empty()) bad(text, "empty scope after '%'");
      if (const auto number = parse_number(zone, 0xffff'ffffu)) {
        scope = *number;
      } else {
        scope = ::if_nametoindex(std::string(zone).c_str());
        if (scope == 0) bad(text, "unknown interface in scope");
      }
    }
    std::array<std::uint8_t, 16> address{};
    if (::inet_pton(AF_INET6, std::string(host).c_str(), address.data()) != 1) bad(text, "not an IPv6 address");
    return v6(address, port, scope);
  }
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) bad(text, "missing ':' and port");
  if (text.find(':') != colon) bad(text, "an IPv6 address must be in brackets");
  const std::uint16_t port = parse_port(text, text.substr(colon + 1));
  std::array<std::uint8_t, 4> address{};
  if (::inet_pton(AF_INET, std::string(text.substr(0, colon)).c_str(), address.data()) != 1)
    bad(text, "not an IPv4 address");
  return v4(address, port);
}

std::string endpoint::to_string() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(is_v6_ ? AF_INET6 : AF_INET, bytes_.data(), buffer, sizeof buffer);
  std::string out;
  if (is_v6_) {
    out = "[";
    out += buffer;
    if (scope_id_ != 0) out += "%" + std::to_string(scope_id_);
    out += "]";
  } else {
    out = buffer;
  }
  out += ":" + std::to_string(port_);
  return out;
}

}  // namespace weft::net

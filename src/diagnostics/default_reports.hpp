// SPDX-License-Identifier: MIT
#pragma once
// The default stall and long-blocking handlers: one line on stderr each,
// at most once a second per spawn site; the next line for a site says how
// many were held back ("(+N more from this site)").
#include <weft/diagnostics.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace weft::detail {

/// "main.cpp:42" (the file's last path component).
std::string site_of(const std::source_location& where);
std::string format_stall_line(const stall_report& r, std::uint64_t suppressed);
std::string format_long_blocking_line(const long_blocking_report& r, std::uint64_t suppressed);

/// Once a second per spawn site. Not thread-safe: the watchdog thread calls it.
class site_rate_limiter {
public:
  /// How many were held back since the last line if one may be written now;
  /// -1 if it must be held back.
  std::int64_t admit(const std::source_location& where, std::chrono::steady_clock::time_point now);

private:
  struct site_state {
    std::chrono::steady_clock::time_point last;
    std::uint64_t suppressed = 0;
  };
  std::map<std::pair<std::string, std::uint32_t>, site_state> sites_;
};

/// Writes `line` and a newline to stderr in one call, so that lines from
/// different threads do not interleave.
void write_stderr_line(const std::string& line) noexcept;

}  // namespace weft::detail

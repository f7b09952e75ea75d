// SPDX-License-Identifier: MIT
// The default report lines (see default_reports.hpp). The stall line is the
// one DESIGN §6 gives:
//   weft: worker 1 stuck for 52 ms in task 17 spawned at main.cpp:42; move blocking calls into spawn_blocking
#include "diagnostics/default_reports.hpp"

#include <string_view>
#include <sys/uio.h>
#include <unistd.h>

namespace weft::detail {

namespace {
std::string duration_text(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  if (d >= seconds(10)) return std::to_string(duration_cast<seconds>(d).count()) + " s";
  return std::to_string(duration_cast<milliseconds>(d).count()) + " ms";
}

std::string suffix(std::uint64_t suppressed) {
  return suppressed == 0 ? std::string() : " (+" + std::to_string(suppressed) + " more from this site)";
}
}  // namespace

std::string site_of(const std::source_location& where) {
  std::string_view file = where.file_name() != nullptr ? where.file_name() : "";
  if (auto slash = file.rfind('/'); slash != std::string_view::npos) file.remove_prefix(slash + 1);
  if (file.empty()) return "an unknown site";
  return std::string(file) + ':' + std::to_string(where.line());
}

std::string format_stall_line(const stall_report& r, std::uint64_t suppressed) {
  return "weft: worker " + std::to_string(r.worker) + " stuck for " + duration_text(r.busy_for) + " in task " +
         std::to_string(r.task) + " spawned at " + site_of(r.spawned_at) + "; move blocking calls into spawn_blocking" +
         suffix(suppressed);
}

std::string format_long_blocking_line(const long_blocking_report& r, std::uint64_t suppressed) {
  return "weft: blocking job task " + std::to_string(r.task) + " spawned at " + site_of(r.spawned_at) +
         " has held a thread of pool \"" + std::string(r.pool) + "\" for " + duration_text(r.running_for) +
         "; run work that never ends on spawn_thread" + suffix(suppressed);
}

std::int64_t site_rate_limiter::admit(const std::source_location& where, std::chrono::steady_clock::time_point now) {
  auto key = std::make_pair(std::string(where.file_name() != nullptr ? where.file_name() : ""), where.line());
  auto [it, inserted] = sites_.try_emplace(std::move(key));
  site_state& site = it->second;
  if (!inserted && now - site.last < std::chrono::seconds(1)) {
    ++site.suppressed;
    return -1;
  }
  site.last = now;
  return static_cast<std::int64_t>(std::exchange(site.suppressed, 0));
}

void write_stderr_line(const std::string& line) noexcept {
  // One writev: the line and its newline land together, so lines from
  // different threads do not interleave. Nowhere to report a failing stderr.
  char newline = '\n';
  iovec parts[2] = {{const_cast<char*>(line.data()), line.size()}, {&newline, 1}};
  (void)::writev(STDERR_FILENO, parts, 2);
}

}  // namespace weft::detail

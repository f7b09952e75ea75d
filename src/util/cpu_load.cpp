// SPDX-License-Identifier: MIT
#include "util/cpu_load.hpp"

#include <charconv>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

namespace weft::detail {

std::optional<std::size_t> runnable_threads() noexcept {
  const int fd = ::open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buffer[128];
  const ssize_t n = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  // "0.68 1.62 1.87 3/234 27960": skip three fields, read up to the '/'.
  std::string_view text(buffer, static_cast<std::size_t>(n));
  for (int field = 0; field < 3; ++field) {
    const std::size_t space = text.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    text.remove_prefix(space + 1);
  }
  std::size_t runnable = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), runnable);
  if (ec != std::errc{} || end == text.data() || end == text.data() + text.size() || *end != '/') return std::nullopt;
  return runnable;
}

}  // namespace weft::detail

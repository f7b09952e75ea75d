// SPDX-License-Identifier: MIT
#include "util/proc_file.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace weft::detail {

std::optional<std::string_view> read_proc_file(const char* path, std::span<char> buffer) noexcept {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const ssize_t n = ::read(fd, buffer.data(), buffer.size());
  ::close(fd);
  if (n <= 0) return std::nullopt;
  return std::string_view(buffer.data(), static_cast<std::size_t>(n));
}

}  // namespace weft::detail

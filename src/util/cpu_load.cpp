// SPDX-License-Identifier: MIT
#include "util/cpu_load.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string_view>
#include <thread>

#include <fcntl.h>
#include <sched.h>
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

std::optional<bool> is_runnable(pid_t tid) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", static_cast<int>(tid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buffer[256];
  const ssize_t n = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  // "1234 (weft-db) R ...": the state follows the last ')' (a name may hold one).
  const std::string_view text(buffer, static_cast<std::size_t>(n));
  const std::size_t paren = text.rfind(')');
  if (paren == std::string_view::npos || paren + 2 >= text.size()) return std::nullopt;
  return text[paren + 2] == 'R';
}

std::size_t usable_cpus() noexcept {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1U, std::thread::hardware_concurrency());
}

namespace {

std::atomic<int> own_runnable_threads{0};

// What a runnable_threads() reading says, taken at most once a millisecond
// and shared process-wide, so that a hot path may ask. Both false if the
// file cannot be read.
struct load_reading {
  bool oversubscribed;   // more runnable threads than usable CPUs
  bool every_cpu_taken;  // as many other runnable threads as usable CPUs
};

load_reading current_load() noexcept {
  using clock = std::chrono::steady_clock;
  constexpr auto max_age = std::chrono::milliseconds(1);
  static std::atomic<clock::rep> read_at{clock::rep{0}};
  static std::atomic<bool> oversubscribed{false};
  static std::atomic<bool> taken{false};
  // relaxed: hints; two threads refreshing at once both store fresh readings.
  const auto now = clock::now().time_since_epoch().count();
  if (now - read_at.load(std::memory_order_relaxed) >= clock::duration(max_age).count()) {
    read_at.store(now, std::memory_order_relaxed);
    const auto runnable = runnable_threads();
    const auto cpus = static_cast<std::ptrdiff_t>(usable_cpus());
    const auto all = runnable ? static_cast<std::ptrdiff_t>(*runnable) : std::ptrdiff_t{0};
    oversubscribed.store(runnable && all > cpus, std::memory_order_relaxed);
    taken.store(runnable && all - own_runnable_threads.load(std::memory_order_relaxed) >= cpus,
                std::memory_order_relaxed);
  }
  return {oversubscribed.load(std::memory_order_relaxed), taken.load(std::memory_order_relaxed)};
}

}  // namespace

bool cpus_oversubscribed() noexcept { return current_load().oversubscribed; }

void count_own_runnable_threads(int delta) noexcept {
  // relaxed: a count for a hint; nothing is published through it.
  own_runnable_threads.fetch_add(delta, std::memory_order_relaxed);
}

bool every_cpu_taken() noexcept { return current_load().every_cpu_taken; }

}  // namespace weft::detail

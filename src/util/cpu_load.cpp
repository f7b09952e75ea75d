// SPDX-License-Identifier: MIT
#include "util/cpu_load.hpp"
#include "util/proc_file.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <string_view>
#include <thread>

#include <sched.h>

namespace weft::detail {

std::optional<std::size_t> runnable_threads() noexcept {
  std::array<char, 128> buffer;
  const std::optional<std::string_view> read = read_proc_file("/proc/loadavg", buffer);
  if (!read) return std::nullopt;
  // "0.68 1.62 1.87 3/234 27960": skip three fields, read up to the '/'.
  std::string_view text = *read;
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
  std::array<char, 256> buffer;
  const std::optional<std::string_view> read = read_proc_file(path, buffer);
  if (!read) return std::nullopt;
  // "1234 (weft-db) R ...": the state follows the last ')' (a name may hold one).
  const std::string_view text = *read;
  const std::size_t paren = text.rfind(')');
  if (paren == std::string_view::npos || paren + 2 >= text.size()) return std::nullopt;
  return text[paren + 2] == 'R';
}

std::size_t usable_cpus() noexcept {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1U, std::thread::hardware_concurrency());
}

bool cpus_oversubscribed() noexcept {
  using clock = std::chrono::steady_clock;
  constexpr auto max_age = std::chrono::milliseconds(1);
  static std::atomic<clock::rep> read_at{clock::rep{0}};
  static std::atomic<bool> oversubscribed{false};
  // relaxed: a hint; two threads refreshing at once both store a fresh reading.
  const auto now = clock::now().time_since_epoch().count();
  if (now - read_at.load(std::memory_order_relaxed) >= clock::duration(max_age).count()) {
    read_at.store(now, std::memory_order_relaxed);
    const std::optional<std::size_t> runnable = runnable_threads();
    oversubscribed.store(runnable && *runnable > usable_cpus(), std::memory_order_relaxed);
  }
  return oversubscribed.load(std::memory_order_relaxed);
}

}  // namespace weft::detail

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

std::optional<idle_ticks> parse_idle_ticks(std::string_view text) noexcept {
  idle_ticks ticks{};
  // The per-CPU lines come right after the all-CPU line "cpu  ...".
  while (text.starts_with("cpu")) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    line.remove_prefix(3);
    if (line.empty() || line.front() == ' ') continue;   // the all-CPU line
    unsigned cpu = 0;
    std::array<std::uint64_t, 5> field{};   // user nice system idle iowait
    const char* const at = line.data();
    const char* const stop = at + line.size();
    auto parsed = std::from_chars(at, stop, cpu);
    for (std::uint64_t& f : field) {
      if (parsed.ec != std::errc{}) break;
      while (parsed.ptr < stop && *parsed.ptr == ' ') ++parsed.ptr;
      parsed = std::from_chars(parsed.ptr, stop, f);
    }
    if (parsed.ec != std::errc{}) return std::nullopt;
    ticks[cpu % ticks.size()] += field[3] + field[4];
  }
  return ticks;
}

std::optional<idle_ticks> read_idle_ticks() noexcept {
  // The per-CPU lines come first; 16 KiB holds them for ~150 CPUs.
  static std::array<char, 16384> buffer;
  const std::optional<std::string_view> text = read_proc_file("/proc/stat", buffer);
  if (!text) return std::nullopt;
  return parse_idle_ticks(*text);
}

namespace {
template <class D>
constexpr std::int64_t ns(D d) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}
}  // namespace

bool idle_watch::may_look(std::int64_t now) const noexcept { return now - last_at_ >= ns(min_gap); }

bool idle_watch::never_idle_since_last_look(const idle_ticks& ticks, const cpu_set_t& cpus, std::int64_t now) noexcept {
  bool never_idle = may_look(now) && now - last_at_ <= ns(max_gap);
  for (int cpu = 0; cpu < CPU_SETSIZE && never_idle; ++cpu) {
    const std::size_t slot = static_cast<std::size_t>(cpu) % ticks.size();
    if (CPU_ISSET(cpu, &cpus) && ticks[slot] != last_[slot]) never_idle = false;
  }
  last_ = ticks;
  last_at_ = now;
  return never_idle;
}

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#include "util/spin_pause.hpp"
#include "util/proc_file.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>

#include <sched.h>

namespace weft::detail {

namespace {

// Relaxed throughout: hints, nothing is published through them; two
// spinners storing at once both store plausible values.

// Per CPU; CPUs beyond the table share slots: the hint only gets coarser.
struct alignas(64) cpu_slot {
  std::atomic<std::int64_t> taken_at{std::numeric_limits<std::int64_t>::min()};   // steady_clock ns
  std::atomic<std::uint32_t> busy_workers{0};   // our async workers polling tasks here
};
constexpr std::size_t num_slots = 64;
std::array<cpu_slot, num_slots> slots;

cpu_slot* slot_of(int cpu) noexcept { return cpu < 0 ? nullptr : &slots[static_cast<std::size_t>(cpu) % num_slots]; }

std::atomic<std::int64_t> paused_until{0};   // steady_clock ns
std::atomic<std::int64_t> pause_length{0};   // ns
// The share of long yields, in 1/1024ths, averaged over about the last 32
// yields of any spinner.
constexpr std::int32_t share_one = 1024;
constexpr std::int32_t share_window = 32;
std::atomic<std::int32_t> long_share{0};

template <class D>
constexpr std::int64_t ns(D d) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

std::int64_t now_ns() noexcept { return ns(std::chrono::steady_clock::now().time_since_epoch()); }

// Each CPU's idle time (idle + iowait, in USER_HZ ticks) from /proc/stat;
// false if the file cannot be read.
using idle_ticks = std::array<std::uint64_t, num_slots>;
bool read_idle_ticks(idle_ticks& ticks) noexcept {
  // The per-CPU lines come first; 16 KiB holds them for ~150 CPUs.
  static std::array<char, 16384> buffer;   // under look_mutex
  const std::optional<std::string_view> read = read_proc_file("/proc/stat", buffer);
  if (!read) return false;
  ticks.fill(0);
  std::string_view text = *read;
  // "cpu3 4705 356 584 3699 23 23 0 0 0 0": user nice system idle iowait ...
  while (text.starts_with("cpu")) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    line.remove_prefix(3);
    if (line.empty() || line.front() == ' ') continue;   // the all-CPU line
    unsigned cpu = 0;
    std::array<std::uint64_t, 5> field{};
    const char* at = line.data();
    const char* const stop = line.data() + line.size();
    auto parsed = std::from_chars(at, stop, cpu);
    for (std::uint64_t& f : field) {
      if (parsed.ec != std::errc{}) break;
      while (parsed.ptr < stop && *parsed.ptr == ' ') ++parsed.ptr;
      parsed = std::from_chars(parsed.ptr, stop, f);
    }
    if (parsed.ec != std::errc{}) return false;
    ticks[cpu % num_slots] += field[3] + field[4];
  }
  return true;
}

// Whether every CPU in `cpus` ran something without pause since the last
// look, at least min_look_gap and at most max_look_gap ago (else: false,
// and this look is the next one's baseline). USER_HZ ticks are 10 ms.
constexpr std::chrono::milliseconds min_look_gap{30};
constexpr std::chrono::seconds max_look_gap{1};
std::mutex look_mutex;
bool never_idle_since_last_look(const cpu_set_t& cpus, std::int64_t now) noexcept {
  static idle_ticks last{};
  static std::int64_t last_at = std::numeric_limits<std::int64_t>::min() / 2;   // under look_mutex
  const std::unique_lock lock(look_mutex, std::try_to_lock);
  if (!lock.owns_lock() || now - last_at < ns(min_look_gap)) return false;   // another spinner looks
  idle_ticks ticks;
  if (!read_idle_ticks(ticks)) return false;
  bool never_idle = now - last_at <= ns(max_look_gap);
  for (int cpu = 0; cpu < CPU_SETSIZE && never_idle; ++cpu) {
    const auto slot = static_cast<std::size_t>(cpu) % num_slots;
    if (CPU_ISSET(cpu, &cpus) && ticks[slot] != last[slot]) never_idle = false;
  }
  last = ticks;
  last_at = now;
  return never_idle;
}

// Every CPU the caller may use is taken by threads other than ours: marked
// within `since`, or (a lone spinner marks only its own CPU) never idle
// since the last look and without a busy worker of ours. Read afresh each
// time (taskset may change the affinity): only after a long yield.
bool every_cpu_taken(std::int64_t since, std::int64_t now) noexcept {
  cpu_set_t usable;
  if (sched_getaffinity(0, sizeof usable, &usable) != 0) return false;
  cpu_set_t unmarked;
  CPU_ZERO(&unmarked);
  bool any_unmarked = false;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &usable)) continue;
    const cpu_slot& slot = *slot_of(cpu);
    if (slot.taken_at.load(std::memory_order_relaxed) >= since) continue;
    if (slot.busy_workers.load(std::memory_order_relaxed) != 0) return false;   // busy with our work
    CPU_SET(cpu, &unmarked);
    any_unmarked = true;
  }
  return !any_unmarked || never_idle_since_last_look(unmarked, now);
}

}  // namespace

bool spin_pause::may_spin() noexcept { return now_ns() >= paused_until.load(std::memory_order_relaxed); }

bool spin_pause::yield() noexcept {
  cpu_slot* const slot = slot_of(sched_getcpu());
  const bool worker_was_busy = slot != nullptr && slot->busy_workers.load(std::memory_order_relaxed) != 0;
  const std::int64_t before = now_ns();
  sched_yield();
  const std::int64_t after = now_ns();
  const bool taken = after - before >= ns(taken_after) && slot != nullptr &&
                     !(worker_was_busy && slot->busy_workers.load(std::memory_order_relaxed) != 0);
  const std::int32_t share = long_share.load(std::memory_order_relaxed);
  const std::int32_t new_share = share + ((taken ? share_one : 0) - share) / share_window;
  if (new_share != share) long_share.store(new_share, std::memory_order_relaxed);   // no shared write while quiet
  if (!taken) return true;
  slot->taken_at.store(after, std::memory_order_relaxed);
  if (new_share * 100 < long_yields_percent_to_pause * share_one || !every_cpu_taken(after - ns(recent), after)) {
    return true;
  }
  const std::int64_t until = paused_until.load(std::memory_order_relaxed);
  const std::int64_t last = pause_length.load(std::memory_order_relaxed);
  std::int64_t next = ns(min_pause);
  if (before < until) next = std::max(last, next);   // a spin under way as the pause began: the same slice
  else if (before < until + last) next = std::min(last * 2, ns(max_pause));   // taken again right after it
  pause_length.store(next, std::memory_order_relaxed);
  paused_until.store(after + next, std::memory_order_relaxed);
  return false;
}

int spin_pause::worker_busy() noexcept {
  const int cpu = sched_getcpu();
  if (cpu_slot* slot = slot_of(cpu)) slot->busy_workers.fetch_add(1, std::memory_order_relaxed);
  return cpu;
}

void spin_pause::worker_idle(int cpu) noexcept {
  if (cpu_slot* slot = slot_of(cpu)) slot->busy_workers.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace weft::detail

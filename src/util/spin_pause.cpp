// SPDX-License-Identifier: MIT
#include "util/spin_pause.hpp"
#include "util/cpu_load.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>

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

// Whether every CPU in `cpus` ran without pause since the last look (one
// spinner at a time looks; another one meanwhile hears false).
std::mutex look_mutex;
bool never_idle_since_last_look(const cpu_set_t& cpus, std::int64_t now) noexcept {
  static idle_watch watch;   // under look_mutex
  const std::unique_lock lock(look_mutex, std::try_to_lock);
  if (!lock.owns_lock() || !watch.may_look(now)) return false;
  const std::optional<idle_ticks> ticks = read_idle_ticks();
  return ticks && watch.never_idle_since_last_look(*ticks, cpus, now);
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

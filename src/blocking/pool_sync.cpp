// SPDX-License-Identifier: MIT
// Futex system calls for the blocking pool (see pool_sync.hpp for why).
#include "blocking/pool_sync.hpp"

#include <cerrno>
#include <climits>
#include <ctime>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace weft::detail::blocking_sync {
namespace {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

// The futex syscall wants the address of the 32-bit word inside the atomic.
std::uint32_t* address_of(std::atomic<std::uint32_t>& word) noexcept { return reinterpret_cast<std::uint32_t*>(&word); }

// About 2-4 µs of spinning on the mutex: far longer than any critical section
// of the pool, far shorter than the ~21 µs a parked locker takes to wake.
constexpr int mutex_spin_rounds = 128;

}  // namespace

bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::optional<clock::time_point> deadline) noexcept {
  timespec abs{};
  timespec* timeout = nullptr;
  if (deadline) {
    // libstdc++'s steady_clock is CLOCK_MONOTONIC, FUTEX_WAIT_BITSET's clock.
    const auto since_epoch = deadline->time_since_epoch();
    if (since_epoch.count() <= 0) return false;
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    abs.tv_sec = static_cast<time_t>(secs.count());
    abs.tv_nsec = static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs).count());
    timeout = &abs;
  }
  // FUTEX_WAIT_BITSET takes an absolute deadline, so a loop of spurious
  // wake-ups never stretches the wait.
  const long rc = syscall(SYS_futex, address_of(word), FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, timeout,
                          nullptr, FUTEX_BITSET_MATCH_ANY);
  return !(rc == -1 && errno == ETIMEDOUT);
}

void futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept {
  syscall(SYS_futex, address_of(word), FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count, nullptr, nullptr, 0);
}

void spin_mutex::lock_slow() noexcept {
  for (int round = 0; round < mutex_spin_rounds; ++round) {
    cpu_relax();
    std::uint32_t seen = state_.load(std::memory_order_relaxed);
    // acquire: pairs with the release exchange in unlock().
    if (seen == unlocked &&
        state_.compare_exchange_weak(seen, locked, std::memory_order_acquire, std::memory_order_relaxed)) {
      return;
    }
  }
  // Park. Marking the word `contended` makes the holder's unlock() wake us;
  // acquire pairs with the release exchange in unlock().
  while (state_.exchange(contended, std::memory_order_acquire) != unlocked) {
    futex_wait(state_, contended);
  }
}

}  // namespace weft::detail::blocking_sync

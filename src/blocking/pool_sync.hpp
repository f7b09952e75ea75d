// SPDX-License-Identifier: MIT
#pragma once
// The blocking pool's own synchronisation: a futex wrapper and a spin-then-park
// mutex. They live in a nested namespace so that they cannot collide with
// helpers of the same name elsewhere in weft::detail.
//
// Why not std::mutex: glibc's default mutex parks a contended locker at once,
// and on this VM waking a parked thread on the other vCPU costs ~21 µs
// (bench/README.md, machine floors) while the pool's critical sections last tens of
// nanoseconds. Why not std::atomic::wait: the keep-alive and supervisor waits
// need a deadline, which atomic::wait does not have.

#include "util/cpu_relax.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace weft::detail::blocking_sync {

using clock = std::chrono::steady_clock;

/// Sleeps while `word == expected`, until woken or until `deadline` (steady
/// clock). Returns false only when the deadline passed; spurious returns are
/// possible, so callers re-check their condition in a loop.
bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::optional<clock::time_point> deadline = std::nullopt) noexcept;

/// Wakes up to `count` threads sleeping in futex_wait on `word`.
void futex_wake(std::atomic<std::uint32_t>& word, int count = 1) noexcept;

using weft::detail::cpu_relax;

/// A mutex that spins briefly before parking on a futex (Drepper, "Futexes Are
/// Tricky", mutex 3). Meets Lockable, so std::unique_lock works with it.
class spin_mutex {
public:
  spin_mutex() = default;
  spin_mutex(const spin_mutex&) = delete;
  spin_mutex& operator=(const spin_mutex&) = delete;
  ~spin_mutex() = default;

  void lock() noexcept {
    std::uint32_t seen = unlocked;
    // acquire: pairs with the release exchange in unlock(), so the previous
    // holder's writes are visible to this one.
    if (state_.compare_exchange_strong(seen, locked, std::memory_order_acquire, std::memory_order_relaxed)) {
      return;
    }
    lock_slow();
  }

  bool try_lock() noexcept {
    std::uint32_t seen = unlocked;
    // acquire: as in lock().
    return state_.compare_exchange_strong(seen, locked, std::memory_order_acquire, std::memory_order_relaxed);
  }

  void unlock() noexcept {
    // release: pairs with the acquire CAS/exchange in lock() and lock_slow().
    if (state_.exchange(unlocked, std::memory_order_release) == contended) futex_wake(state_, 1);
  }

private:
  static constexpr std::uint32_t unlocked = 0;
  static constexpr std::uint32_t locked = 1;      // held, nobody parked
  static constexpr std::uint32_t contended = 2;   // held, someone may be parked

  void lock_slow() noexcept;

  std::atomic<std::uint32_t> state_{unlocked};
};

}  // namespace weft::detail::blocking_sync

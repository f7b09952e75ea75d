// SPDX-License-Identifier: MIT
#pragma once
// How the parts of a runtime wake its watchdog when they become busy, so
// that the watchdog can sleep for as long as every worker is idle and no
// blocking job runs (no periodic wake-ups on an idle runtime).
//
// A Dekker handshake:
// - the watchdog stores is_sleeping_ = true, then looks at its sources (the
//   scheduler's count of awake workers, the pools' running jobs), and sleeps
//   only if all are idle;
// - a source first makes itself visible as busy, then calls became_busy(),
//   which loads is_sleeping_ and kicks the watchdog if it is set.
// Both sides use seq_cst (or a lock the other side also takes) between their
// store and their load, so at least one sees the other: no lost wake-up. A
// source that is busy already pays one load of a line that is written only
// when the watchdog goes to sleep or wakes.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

namespace weft::detail {

class activity_signal {
public:
  /// Any thread, after making its busy state visible.
  void became_busy() noexcept {
    if (is_sleeping_.load()) kick();   // seq_cst: see the handshake above
  }

  /// Wakes the watchdog now (a kick, or stop).
  void kick() noexcept {
    {
      std::lock_guard lock(mutex_);
      kicked_ = true;
    }
    cv_.notify_one();
  }

  // -- watchdog side -------------------------------------------------------------
  /// Announces the intent to sleep; the caller then checks its sources.
  void prepare_sleep() noexcept { is_sleeping_.store(true); }   // seq_cst: see above
  /// The sources were not idle after all.
  void cancel_sleep() noexcept { is_sleeping_.store(false); }
  /// Sleeps until kicked or until `deadline` (nullopt: no deadline).
  /// Returns true if kicked. Clears the intent.
  bool sleep(std::optional<std::chrono::steady_clock::time_point> deadline) noexcept {
    std::unique_lock lock(mutex_);
    if (deadline) {
      cv_.wait_until(lock, *deadline, [&] { return kicked_; });
    } else {
      cv_.wait(lock, [&] { return kicked_; });
    }
    const bool was_kicked = kicked_;
    kicked_ = false;
    is_sleeping_.store(false);
    return was_kicked;
  }

private:
  std::atomic<bool> is_sleeping_{false};
  std::mutex mutex_;   // guards kicked_
  std::condition_variable cv_;
  bool kicked_ = false;
};

}  // namespace weft::detail

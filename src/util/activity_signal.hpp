// SPDX-License-Identifier: MIT
#pragma once
// How the parts of a runtime wake its watchdog when they become busy, so
// that the watchdog can sleep for as long as every worker is idle and no
// blocking job runs (no periodic wake-ups on an idle runtime).
//
// A Dekker handshake:
// - the watchdog stores which sources it is listening to (listening_: the
//   workers, the pools, or both), then looks at those sources (the
//   scheduler's count of awake workers, the pools' running jobs), and sleeps
//   only if they are idle;
// - a source first makes itself visible as busy, then calls became_busy(),
//   which loads listening_ and kicks the watchdog if its bit is set.
// The watchdog listens only while it sleeps past the moment it would need
// to know: to both while nothing runs (no deadline), to the workers only
// while it samples nothing but long blocking jobs (every 2.5 s by default),
// so a steady stream of job starts does not kick it once a job.
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
  enum source : unsigned { workers = 1, pools = 2 };

  /// Any thread, after making its busy state visible.
  void became_busy(source from) noexcept {
    if ((listening_.load() & from) != 0) kick();   // seq_cst: see the handshake above
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
  /// Announces the intent to sleep, to be woken by `sources` (a mask of
  /// source); the caller then checks those sources.
  void prepare_sleep(unsigned sources) noexcept { listening_.store(sources); }   // seq_cst: see above
  /// The sources were not idle after all.
  void cancel_sleep() noexcept { stop_listening(); }
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
    stop_listening();
    return was_kicked;
  }

private:
  // Only the watchdog stores listening_, so its own relaxed load is exact.
  void stop_listening() noexcept {
    if (listening_.load(std::memory_order_relaxed) != 0) listening_.store(0);
  }

  // A line of its own, stored only when it changes: every worker loads it
  // on every wake-up, and the watchdog's mutex (or a store per sample) on
  // the same line would make that load a miss after each of its samples.
  alignas(64) std::atomic<unsigned> listening_{0};   // sources that kick the watchdog awake
  alignas(64) std::mutex mutex_;   // guards kicked_
  std::condition_variable cv_;
  bool kicked_ = false;
};

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
// The watchdog: one runtime-owned thread that notices, while it happens, a
// poll that keeps an async worker busy past stall_threshold, and a blocking
// closure that holds a pool thread past long_blocking_threshold.
//
// # Sampling (the workers never read the clock for it)
// Each worker publishes {sequence, task id, spawn site} at the start of a
// poll (util/poll_slot.hpp). Every period P the watchdog reads the slots and
// the clock: a slot whose sequence is the one it saw before is in the same
// poll, which has run at least since the watchdog first saw it. Once that is
// stall_threshold T, the poll is reported, once. The period is T / 4 while
// a worker is awake and T / 2 while none is (the linger below): a poll that
// began at s is first seen before s + T / 2 (or at once, if the watchdog was
// asleep and the worker's wake-up kicked it), and from then on the worker is
// awake, so it is reported before first_seen + T + T / 4 < s + 1.75 T:
// within DESIGN's 2 T. busy_for is measured from first_seen, so it never
// overstates.
// Blocking jobs: their threads stamp the start time (the pool reads the
// clock per job anyway, for its histograms); the watchdog asks each pool
// every long_blocking_threshold / 4 for jobs past it (collect_long_running).
//
// # Sleeping
// Once every worker has been parked (or outside block_on) for `linger`
// (100 ms) and no blocking job runs, the watchdog sleeps with no deadline: a
// worker that wakes up, or a pool thread that starts a job, kicks it
// (activity_signal.hpp has the handshake that makes a lost kick impossible).
// So an idle runtime costs no wake-ups at all, and a runtime that idles in
// short spells (a timer every millisecond) does not pay a kick per spell.
//
// # Handlers
// They run on this thread, never on a worker: a slow or blocking handler
// delays later reports only. One that throws is reported once on stderr and
// ignored from then on, and the watchdog keeps running.
//
// # Shutdown
// runtime_core stops the watchdog first (stop_, kick, join), before the
// scheduler and the pools it reads go away.
#include "diagnostics/watchdog.hpp"

#include "diagnostics/default_reports.hpp"
#include "util/os_thread.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <system_error>

namespace weft::detail {

namespace {

template <class Report, class Format>
std::function<void(const Report&)> default_handler(Format format) {
  // Shared state: std::function copies its target.
  auto limiter = std::make_shared<site_rate_limiter>();
  return [limiter, format](const Report& r) {
    const std::int64_t suppressed = limiter->admit(r.spawned_at, std::chrono::steady_clock::now());
    if (suppressed >= 0) write_stderr_line(format(r, static_cast<std::uint64_t>(suppressed)));
  };
}

void report_throw(const char* handler) noexcept {
  std::string what;
  try {
    throw;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  write_stderr_line(std::string("weft: the ") + handler + " handler threw (" + what +
                    "); report handlers must not throw, further exceptions from it are ignored");
}

}  // namespace

namespace {
// A floor on the sampling period, whatever the threshold.
constexpr std::chrono::nanoseconds min_period = std::chrono::microseconds(50);
// How long the watchdog keeps sampling on its own after it last saw a worker
// awake (or was kicked), before it sleeps and needs a kick again. A kick is a
// system call on the worker that wakes up, just before it polls what woke it
// (a timer, a socket): a runtime that wakes every millisecond would pay it
// every time.
// Sampling through short idle spells costs the watchdog ~200 wake-ups a
// second instead (at the default T, 10 ms), and an idle runtime none once
// the linger is over.
constexpr std::chrono::milliseconds linger(100);
}  // namespace

watchdog::watchdog(watchdog_config config, watchdog_sources sources, activity_signal& activity)
    : config_(std::move(config)),
      sources_(std::move(sources)),
      activity_(activity),
      watches_(sources_.workers.size()),
      stall_handler_(config_.on_stall ? config_.on_stall : default_handler<stall_report>(&format_stall_line)),
      long_handler_(config_.on_long_blocking ? config_.on_long_blocking
                                             : default_handler<long_blocking_report>(&format_long_blocking_line)) {}

watchdog::~watchdog() { stop(); }

void watchdog::start() {
  pthread_t thread;
  const int rc = start_os_thread(thread, config_.thread_name, 0, [this] { run(); });
  if (rc != 0) throw std::system_error(rc, std::system_category(), "weft: cannot start the watchdog thread");
  thread_ = thread;
}

void watchdog::stop() noexcept {
  if (!thread_) return;
  stop_.store(true);   // seq_cst; read by run() after each wake-up
  activity_.kick();
  pthread_join(*thread_, nullptr);
  thread_.reset();
}

bool watchdog::workers_busy() const { return config_.stall_threshold.count() > 0 && sources_.num_awake_workers() > 0; }

bool watchdog::blocking_busy() const { return config_.long_blocking_threshold.count() > 0 && sources_.blocking_busy(); }

void watchdog::run() noexcept {
  const bool watch_stalls = config_.stall_threshold.count() > 0;
  const bool watch_blocking = config_.long_blocking_threshold.count() > 0;
  auto next_blocking_sample = clock::now();
  auto last_busy = clock::now() - linger;
  while (!stop_.load()) {
    const auto now = clock::now();
    if (watch_stalls) sample_workers(now);
    if (watch_blocking && now >= next_blocking_sample) {
      sample_blocking();
      next_blocking_sample = now + config_.long_blocking_threshold / 4;
    }
    const bool busy = workers_busy();
    if (busy) last_busy = now;
    // SLEEP, listening for kicks (see "Sleeping" above) ...
    if (!busy && now - last_busy >= linger) {
      const unsigned from_workers = watch_stalls ? activity_signal::workers : 0u;
      activity_.prepare_sleep(from_workers | (watch_blocking ? activity_signal::pools : 0u));
      if (!workers_busy()) {   // again, after announcing the intent (activity_signal.hpp)
        // ... with no deadline while nothing runs, else until the next look
        // at the blocking jobs.
        std::optional<clock::time_point> until;
        if (blocking_busy()) {
          activity_.prepare_sleep(from_workers);   // job starts need not kick now
          until = next_blocking_sample;
        }
        if (stop_.load()) {
          activity_.cancel_sleep();
        } else if (activity_.sleep(until) && watch_stalls) {
          // Kicked: a worker woke up (or a job started), however briefly.
          // Linger from here even if it is parked again by the time this
          // thread runs (on a busy host it mostly is), or a worker that
          // ticks every millisecond would pay a kick every time.
          last_busy = clock::now();
        }
        wakeups_.fetch_add(1, std::memory_order_relaxed);
        if (!until) next_blocking_sample = clock::now();   // a job may have just started: look at it
        continue;
      }
      activity_.cancel_sleep();
    }
    // ... or SAMPLE again after a quarter of the stall threshold, or half of
    // it while no worker was awake at this sample (see "Sampling" for why
    // that keeps reports within twice the threshold).
    const auto period = config_.stall_threshold / (busy ? 4 : 2);
    auto until = clock::now() + std::max(period, min_period);
    if (watch_blocking) until = std::min(until, next_blocking_sample);
    activity_.sleep(until);
    wakeups_.fetch_add(1, std::memory_order_relaxed);
  }
}

void watchdog::sample_workers(clock::time_point now) {
  for (std::size_t i = 0; i < watches_.size(); ++i) {
    poll_slot::sample s;
    worker_watch& w = watches_[i];
    if (!sources_.workers[i]->read(s) || s.task == 0) {
      w.seq = 0;   // not polling (or a new poll being published)
      continue;
    }
    if (s.seq != w.seq) {
      w = worker_watch{s.seq, now, false};
      continue;
    }
    const auto busy_for = std::chrono::duration_cast<std::chrono::nanoseconds>(now - w.first_seen);
    if (w.reported || busy_for < config_.stall_threshold) continue;
    w.reported = true;
    stalls_.fetch_add(1, std::memory_order_relaxed);
    report(stall_report{i, s.task, s.spawned_at, busy_for});
  }
}

void watchdog::sample_blocking() {
  long_reports_.clear();
  try {
    sources_.collect_long_running(config_.long_blocking_threshold, long_reports_);
  } catch (...) {
    // Swallowed: out of memory while listing; the jobs are reported on a later sample.
  }
  for (const long_blocking_report& r : long_reports_) report(r);
}

void watchdog::report(const stall_report& r) noexcept {
  try {
    stall_handler_(r);
  } catch (...) {
    if (!std::exchange(stall_handler_threw_, true)) report_throw("on_stall");
  }
}

void watchdog::report(const long_blocking_report& r) noexcept {
  try {
    long_handler_(r);
  } catch (...) {
    if (!std::exchange(long_handler_threw_, true)) report_throw("on_long_blocking");
  }
}

}  // namespace weft::detail

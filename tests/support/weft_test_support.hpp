// SPDX-License-Identifier: MIT
#pragma once
// Helpers for weft's tests: functions and small types, no macros.
#include <weft/detail/task_header.hpp>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace weft::test {

/// Every wait in a test is bounded by this.
inline constexpr std::chrono::seconds max_wait{30};

/// A one-shot event a task can await and any thread can fire; it hands the
/// task's waker to whoever fires, as timers and I/O do.
class manual_event {
public:
  void fire() {
    detail::waker w;
    {
      std::lock_guard lock(mutex_);
      is_set_ = true;
      w = std::move(waker_);
    }
    w.wake();
  }

  auto wait() {
    struct awaiter {
      manual_event& event;
      bool await_ready() {
        std::lock_guard lock(event.mutex_);
        return event.is_set_;
      }
      bool await_suspend(std::coroutine_handle<> self) {
        std::lock_guard lock(event.mutex_);
        if (event.is_set_) return false;
        event.waker_ = detail::task_header::current()->prepare_suspend(self);
        return true;
      }
      void await_resume() const noexcept {}
    };
    return awaiter{*this};
  }

  /// The stored waker (to test duplicate and stale wakes).
  detail::waker peek_waker() {
    std::lock_guard lock(mutex_);
    return waker_;
  }

private:
  std::mutex mutex_;  // guards is_set_ and waker_
  bool is_set_ = false;
  detail::waker waker_;
};

/// Counts live instances: proves destructors ran (frames freed, captures destroyed).
struct lifetime_probe {
  explicit lifetime_probe(std::atomic<int>& live) : live_(&live) { live_->fetch_add(1); }
  lifetime_probe(const lifetime_probe& other) : live_(other.live_) { live_->fetch_add(1); }
  lifetime_probe(lifetime_probe&& other) noexcept : live_(other.live_) { live_->fetch_add(1); }
  lifetime_probe& operator=(const lifetime_probe&) = delete;
  ~lifetime_probe() { live_->fetch_sub(1); }
  std::atomic<int>* live_;
};

/// Waits (bounded) until pred() holds; returns whether it did.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = max_wait) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

/// Stress parameters from the environment: WEFT_STRESS_ITERS scales the
/// iteration count, WEFT_STRESS_SEED fixes the seed (printed on failure).
inline std::uint64_t stress_iterations(std::uint64_t fallback) {
  if (const char* v = std::getenv("WEFT_STRESS_ITERS")) return std::strtoull(v, nullptr, 10);
  return fallback;
}
inline std::uint64_t stress_seed() {
  if (const char* v = std::getenv("WEFT_STRESS_SEED")) return std::strtoull(v, nullptr, 10);
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

/// The calling thread's OS name (Linux keeps 15 characters).
inline std::string thread_name() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

/// A gate a blocking closure waits at, opened from the test.
struct gate {
  std::latch open{1};
  std::atomic<int> arrived{0};
  void pass() {
    arrived.fetch_add(1);
    open.wait();
  }
};

/// A turn on the machine's CPUs, shared by every test process (a lock on a
/// file): a test that loads every CPU on purpose, or times itself under a
/// load it sets up, holds one, so that under `ctest -j` two of them never
/// stack their loads — each is written for its own load only. One per test:
/// a second in the same process would wait for the first forever.
class cpu_turn {
public:
  cpu_turn() {
    std::error_code error;   // best effort, as below
    const auto path = std::filesystem::temp_directory_path(error) / "weft-tests-cpu-turn.lock";
    fd_ = open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0666);   // flock needs no write access
    if (fd_ >= 0) flock(fd_, LOCK_EX);   // best effort: without it, loads may stack
  }
  cpu_turn(const cpu_turn&) = delete;
  cpu_turn& operator=(const cpu_turn&) = delete;
  ~cpu_turn() {
    if (fd_ >= 0) close(fd_);
  }

private:
  int fd_ = -1;
};

/// Another program that keeps every CPU busy (a fully loaded host): one
/// child process per CPU the caller may use, pinned there, spinning until
/// the object is destroyed. Holds a cpu_turn meanwhile.
class busy_loops_on_every_cpu {
public:
  /// `per_cpu` loops pinned to each CPU the caller may use.
  explicit busy_loops_on_every_cpu(int per_cpu = 1) {
    cpu_set_t usable;
    if (pthread_getaffinity_np(pthread_self(), sizeof usable, &usable) != 0) return;
    const pid_t parent = getpid();
    for (int loop = 0; loop < per_cpu * CPU_SETSIZE; ++loop) {
      const int cpu = loop % CPU_SETSIZE;
      if (!CPU_ISSET(cpu, &usable)) continue;
      const pid_t child = fork();
      if (child < 0) continue;
      if (child == 0) {   // only async-signal-safe calls here: pin, then spin until killed
        // Killed with the test too if it crashes: an orphan would spin on,
        // holding the turn every later test of this kind waits for.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(0);
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        sched_setaffinity(0, sizeof one, &one);
        for (volatile bool forever = true; forever;) {}
        _exit(0);
      }
      children_.push_back(child);
    }
  }
  busy_loops_on_every_cpu(const busy_loops_on_every_cpu&) = delete;
  busy_loops_on_every_cpu& operator=(const busy_loops_on_every_cpu&) = delete;
  ~busy_loops_on_every_cpu() {
    for (const pid_t child : children_) {
      kill(child, SIGKILL);
      waitpid(child, nullptr, 0);
    }
  }   // then turn_ passes (the children, which shared its file, are gone)
  /// How many CPUs got a busy loop (all the caller may use, unless fork failed).
  std::size_t count() const noexcept { return children_.size(); }

private:
  cpu_turn turn_;   // first: taken before the loops start
  std::vector<pid_t> children_;
};

}  // namespace weft::test

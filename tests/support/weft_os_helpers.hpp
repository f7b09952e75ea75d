// SPDX-License-Identifier: MIT
#pragma once
// OS-level helpers for the signal, process and Unix-socket tests: descriptor
// limits, temporary directories, counting threads and zombie children.
#include <atomic>
#include <csignal>
#include <cstddef>
#include <exception>
#include <filesystem>
#include <initializer_list>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

namespace weft::test {

/// A fresh directory under the system temp dir, removed (recursively) on destruction.
class temp_dir {
public:
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "weft-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const noexcept { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

/// Fills every free descriptor slot below a lowered RLIMIT_NOFILE, so the
/// next open fails with EMFILE; release() (or the destructor) closes them
/// and restores the limit.
///
/// Under UBSan, whatever is polymorphic and touched while no descriptor is
/// free must already be in UBSan's cache of checked types: on a cache miss
/// its vptr check probes the object's memory through a pipe of its own, so
/// with no descriptor left it reports a valid object as having an invalid
/// vptr (a suppressions file cannot help: UBSan reads it only at its first
/// report). So the constructor builds, and compares, a std::system_error of
/// both categories weft throws with (what weft does in the window), and the
/// tests inspect what failed only after the scope: keep a std::exception_ptr,
/// then use system_error_of().
class fd_exhaustion {
public:
  /// `headroom`: slots left above the descriptors in use when lowering the limit.
  explicit fd_exhaustion(std::size_t headroom = 16) {
    for (const std::error_category* category : {&std::generic_category(), &std::system_category()}) {
      const std::system_error warm(EMFILE, *category, "fills UBSan's vptr cache");
      (void)(warm.code() == std::errc::too_many_files_open);
    }
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    int highest = 0;
    for (int fd = 0; fd < 65536 && fd < static_cast<int>(saved_.rlim_cur); ++fd)
      if (::fcntl(fd, F_GETFD) != -1) highest = fd;
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(highest) + 1 + headroom;
    ::setrlimit(RLIMIT_NOFILE, &lowered);
    for (;;) {
      const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      held_.push_back(fd);
    }
  }
  fd_exhaustion(const fd_exhaustion&) = delete;
  fd_exhaustion& operator=(const fd_exhaustion&) = delete;
  ~fd_exhaustion() { release(); }

  void release() {
    for (const int fd : held_) ::close(fd);
    held_.clear();
    if (!restored_) ::setrlimit(RLIMIT_NOFILE, &saved_);
    restored_ = true;
  }

private:
  rlimit saved_{};
  std::vector<int> held_;
  bool restored_ = false;
};

/// The code and message of the std::system_error held by `failure`; an empty
/// code and "no exception" / "not a std::system_error" otherwise.
inline std::pair<std::error_code, std::string> system_error_of(const std::exception_ptr& failure) {
  if (!failure) return {std::error_code{}, "no exception"};
  try {
    std::rethrow_exception(failure);
  } catch (const std::system_error& e) {
    return {e.code(), e.what()};
  } catch (...) {
    return {std::error_code{}, "not a std::system_error"};
  }
}

/// Routes process-directed deliveries of `signals` (kill(getpid()), SIGCHLD)
/// to one helper thread for the scope: they are blocked in the calling
/// thread, and so in every thread it starts meanwhile (runtimes included,
/// which inherit the mask), and unblocked only in the helper, which sleeps
/// in short usleep()s.
///
/// Why: ThreadSanitizer (GCC 12's) runs a signal handler only when the
/// receiving thread enters an intercepted libc function; a worker parked in
/// epoll_pwait2 (not intercepted) or a thread blocked on a futex would hold
/// the delivery indefinitely. A normal build runs the handler at once on
/// whichever thread the kernel picks, and needs none of this. Do not raise()
/// these signals on the calling thread in the scope: they would stay blocked.
class signal_sink {
public:
  explicit signal_sink(std::initializer_list<int> signals) {
    sigemptyset(&set_);
    for (const int s : signals) sigaddset(&set_, s);
    ::pthread_sigmask(SIG_BLOCK, &set_, &previous_);
    thread_ = std::thread([this] {
      ::pthread_sigmask(SIG_UNBLOCK, &set_, nullptr);
      while (!stop_.load()) ::usleep(500);
    });
  }
  signal_sink(const signal_sink&) = delete;
  signal_sink& operator=(const signal_sink&) = delete;
  ~signal_sink() {
    stop_.store(true);
    thread_.join();
    ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }

private:
  sigset_t set_{};
  sigset_t previous_{};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// Threads of this process (entries of /proc/self/task).
inline std::size_t num_threads() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

/// Children of this process, all of them or only those that have exited
/// and are not reaped (state Z).
inline std::size_t count_children(bool zombies_only) {
  const std::string self = std::to_string(::getpid());
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces and parentheses.
    const std::size_t close = line.rfind(')');
    if (close == std::string::npos || close + 4 >= line.size()) continue;
    const char state = line[close + 2];
    const std::size_t ppid_at = close + 4;
    const std::string ppid = line.substr(ppid_at, line.find(' ', ppid_at) - ppid_at);
    if (ppid == self && (state == 'Z' || !zombies_only)) ++n;
  }
  return n;
}

inline std::size_t num_zombie_children() { return count_children(true); }
/// Children of this process, running or not yet reaped.
inline std::size_t num_children() { return count_children(false); }

}  // namespace weft::test

// SPDX-License-Identifier: MIT
// command::spawn: posix_spawn, pipes and the child's state.
//
// Everything the child needs — argv, envp, the file actions that wire its
// stdio — is built in the parent before posix_spawn. glibc's posix_spawn
// runs the child with clone(CLONE_VM | CLONE_VFORK) and executes only those
// prepared actions before execve, so nothing allocates or takes a lock
// between fork and exec, and an exec failure (ENOENT, EACCES) comes back as
// posix_spawn's result, at once. Every descriptor is opened close-on-exec
// (pipe2 O_CLOEXEC), so a child spawned concurrently by another thread
// inherits none of ours; the dup2 of a child end onto 0/1/2 clears the flag
// on the copy only. The parent's ends are made non-blocking and registered
// with the reactor.
#include <weft/process.hpp>

#include "io/async_io.hpp"
#include "process/child_state.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

extern char** environ;

namespace weft::process {

namespace {

constexpr const char* spawn_what = "weft::process::command::spawn";

/// A descriptor closed on scope exit unless released.
class owned_fd {
public:
  owned_fd() noexcept = default;
  explicit owned_fd(int fd) noexcept : fd_(fd) {}
  owned_fd(const owned_fd&) = delete;
  owned_fd& operator=(const owned_fd&) = delete;
  owned_fd(owned_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  owned_fd& operator=(owned_fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~owned_fd() { reset(); }
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

private:
  int fd_ = -1;
};

struct file_actions {
  file_actions() { ::posix_spawn_file_actions_init(&value); }
  ~file_actions() { ::posix_spawn_file_actions_destroy(&value); }
  file_actions(const file_actions&) = delete;
  file_actions& operator=(const file_actions&) = delete;
  posix_spawn_file_actions_t value;
};

struct spawn_attributes {
  spawn_attributes() { ::posix_spawnattr_init(&value); }
  ~spawn_attributes() { ::posix_spawnattr_destroy(&value); }
  spawn_attributes(const spawn_attributes&) = delete;
  spawn_attributes& operator=(const spawn_attributes&) = delete;
  posix_spawnattr_t value;
};

void check(int rc, const std::string& program) {
  if (rc != 0) weft::detail::throw_io_error(rc, spawn_what, program);
}

/// One of the child's standard streams (`target`: 0, 1 or 2). For a pipe,
/// gives the parent's end; the child's end is kept in `child_ends` until
/// posix_spawn has returned.
owned_fd wire(stdio how, int target, file_actions& actions, std::vector<owned_fd>& child_ends,
              const std::string& program) {
  if (how == stdio::inherit) return {};
  if (how == stdio::null) {
    check(::posix_spawn_file_actions_addopen(&actions.value, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0),
          program);
    return {};
  }
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0)
    weft::detail::throw_io_error(errno, "weft::process::command::spawn: pipe", program);
  // stdin: the parent writes, the child reads; stdout, stderr: the reverse.
  owned_fd parent(target == 0 ? ends[1] : ends[0]);
  owned_fd child(target == 0 ? ends[0] : ends[1]);
  check(::posix_spawn_file_actions_adddup2(&actions.value, child.get(), target), program);
  if (::fcntl(parent.get(), F_SETFL, O_NONBLOCK) != 0)
    weft::detail::throw_io_error(errno, "weft::process::command::spawn: fcntl", program);
  child_ends.push_back(std::move(child));
  return parent;
}

/// "KEY=VALUE" strings for the child: the parent's environment unless
/// cleared, with `overrides` applied in order.
std::vector<std::string> environment(bool clear, const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::string> out;
  if (!clear)
    for (char** e = environ; e && *e; ++e) out.emplace_back(*e);
  for (const auto& [key, value] : overrides) {
    const std::string prefix = key + "=";
    std::erase_if(out, [&](const std::string& entry) { return entry.rfind(prefix, 0) == 0; });
    out.push_back(prefix + value);
  }
  return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

child command::spawn() {
  handle runtime = handle::current();   // weft::no_runtime before anything is started
  detail::child_state::reap_orphans();
  if (program_.empty()) weft::detail::throw_io_error(ENOENT, spawn_what, "(empty program name)");
  if (program_.find('\0') != std::string::npos)
    weft::detail::throw_io_error(EINVAL, spawn_what, "(NUL in program name)");

  std::vector<std::string> argv_strings;
  argv_strings.reserve(args_.size() + 1);
  argv_strings.push_back(program_);
  argv_strings.insert(argv_strings.end(), args_.begin(), args_.end());
  std::vector<char*> argv = pointers(argv_strings);
  std::vector<std::string> env_strings;
  std::vector<char*> envp;
  if (env_clear_ || !env_.empty()) {
    env_strings = environment(env_clear_, env_);
    envp = pointers(env_strings);
  }

  file_actions actions;
  std::vector<owned_fd> child_ends;
  owned_fd in = wire(stdin_.value_or(stdio::inherit), 0, actions, child_ends, program_);
  owned_fd out = wire(stdout_.value_or(stdio::inherit), 1, actions, child_ends, program_);
  owned_fd err = wire(stderr_.value_or(stdio::inherit), 2, actions, child_ends, program_);
  if (dir_) check(::posix_spawn_file_actions_addchdir_np(&actions.value, dir_->c_str()), program_);

  // The child starts with no blocked signals (a worker may block some) and
  // SIGPIPE at its default, whatever the parent did with it.
  spawn_attributes attributes;
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  check(::posix_spawnattr_setsigmask(&attributes.value, &none), program_);
  check(::posix_spawnattr_setsigdefault(&attributes.value, &defaults), program_);
  check(::posix_spawnattr_setflags(&attributes.value, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF), program_);

  pid_t pid = -1;
  char** env = envp.empty() ? environ : envp.data();
  const int rc = program_.find('/') != std::string::npos
                     ? ::posix_spawn(&pid, program_.c_str(), &actions.value, &attributes.value, argv.data(), env)
                     : ::posix_spawnp(&pid, program_.c_str(), &actions.value, &attributes.value, argv.data(), env);
  child_ends.clear();   // the child has its copies
  check(rc, program_);

  // Registering may throw (EMFILE for the pidfd): child_state then kills and
  // reaps the child, and the pipe ends close here.
  child result(std::make_unique<detail::child_state>(pid, program_, std::move(runtime)));
  if (in.get() >= 0) result.stdin_.emplace(child_stdin(weft::detail::io_object(in.release())));
  if (out.get() >= 0) result.stdout_.emplace(child_output(weft::detail::io_object(out.release())));
  if (err.get() >= 0) result.stderr_.emplace(child_output(weft::detail::io_object(err.release())));
  return result;
}

}  // namespace weft::process

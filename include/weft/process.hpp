// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::process`: child processes whose pipes and exit are driven by the
/// runtime's reactor (Tokio's tokio::process).
///
/// A child is started with posix_spawn (no code runs in the child between
/// fork and exec, so nothing allocates there); its piped stdin, stdout and
/// stderr are non-blocking pipes registered with the reactor; its exit is
/// seen through a pidfd (Linux 5.3+) on the reactor, or, where pidfd_open
/// is missing (ENOSYS), through SIGCHLD (see signal.hpp). No worker ever
/// blocks on a child, and no thread is started per child.
///
/// Example:
///     auto out = co_await weft::process::command("git").arg("rev-parse").arg("HEAD").output();
///     if (out.status.success()) std::cout << out.stdout_data;

#include <weft/detail/io_object.hpp>
#include <weft/task.hpp>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace weft::process {

/// What a child's stdin, stdout or stderr is connected to.
enum class stdio {
  inherit,   ///< the parent's own descriptor
  piped,     ///< a pipe the parent reads or writes (take_stdin/take_stdout/take_stderr)
  null,      ///< /dev/null
};

/// How a child ended: `code` if it exited, `signal` if a signal killed it
/// (then `code` is empty), as std::process::ExitStatus.
struct exit_status {
  /// The exit code, if the child exited.
  std::optional<int> code;
  /// The number of the signal that killed the child, if one did.
  std::optional<int> signal;
  /// True if the child exited with code 0.
  bool success() const noexcept { return code && *code == 0; }
  /// Equal if both `code` and `signal` are.
  friend bool operator==(const exit_status&, const exit_status&) = default;
};

/// What command::output() collected.
struct captured_output {
  /// How the child ended.
  exit_status status;
  /// Everything the child wrote to stdout (empty if stdout was not piped).
  std::string stdout_data;
  /// Everything the child wrote to stderr (empty if stderr was not piped).
  std::string stderr_data;
};

namespace detail {
class child_state;
}

/// The writing end of a child's piped stdin. Move-only; destroying it (or
/// shutdown_write) closes the pipe, and the child reads EOF.
///
/// Thread safety: one task writes at a time.
class child_stdin {
public:
  /// Writes at most `bytes.size()` bytes: as many as the pipe takes,
  /// waiting only if it takes none.
  /// Resumes on: the calling worker if the pipe had room; otherwise a worker
  /// of the runtime after the reactor saw room.
  /// Cancellation: cancel-safe: a write cancelled while it waits wrote nothing.
  /// Errors: std::system_error with the errno: EPIPE once the child closed
  /// its stdin or exited (never SIGPIPE), or after shutdown_write().
  [[nodiscard]] task<std::size_t> write(std::span<const std::byte> bytes);
  /// Writes all of `bytes`. Not cancel-safe: a prefix may have been written.
  /// Errors: as write().
  [[nodiscard]] task<void> write_all(std::span<const std::byte> bytes);
  /// Closes the pipe now: the child reads EOF. Idempotent.
  void shutdown_write() noexcept;

  /// The pipe's descriptor (-1 after shutdown_write). Do not close it.
  int native_handle() const noexcept { return io_.fd(); }

private:
  friend class command;
  explicit child_stdin(weft::detail::io_object io) noexcept : io_(std::move(io)) {}
  weft::detail::io_object io_;
};

/// The reading end of a child's piped stdout or stderr. Move-only.
///
/// Thread safety: one task reads at a time.
class child_output {
public:
  /// Reads at most `buffer.size()` bytes, waiting only if none are there.
  /// 0 means EOF: the child (and every process sharing the pipe) closed it.
  /// Resumes on: the calling worker if bytes are there; otherwise a worker
  /// of the runtime after the reactor saw data.
  /// Cancellation: cancel-safe: a read cancelled while it waits took nothing.
  /// Errors: std::system_error with the errno.
  [[nodiscard]] task<std::size_t> read(std::span<std::byte> buffer);

  /// The pipe's descriptor. Do not close it.
  int native_handle() const noexcept { return io_.fd(); }

private:
  friend class command;
  explicit child_output(weft::detail::io_object io) noexcept : io_(std::move(io)) {}
  weft::detail::io_object io_;
};

/// A running (or finished) child process. Move-only.
///
/// Destroying a child that has not been waited for does not kill it (as
/// Tokio): it keeps running and the runtime reaps it in the background when
/// it exits, so it never stays a zombie. (If that runtime shuts down first,
/// the child is reaped by a later spawn or child destruction in the process.)
///
/// Thread safety: one task uses a child at a time.
class child {
public:
  /// Moves the child and its pipes; `other` is left moved-from.
  child(child&& other) noexcept;
  /// Takes `other`'s child and pipes; the child this one held is released as on
  /// destruction (not killed; reaped in the background).
  child& operator=(child&& other) noexcept;
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  ~child();

  /// The process id.
  int id() const noexcept;

  /// Waits for the child to exit and gives its status; after that, gives the
  /// same status at once. Closes the child's stdin first if it was piped and
  /// not taken, so that a child reading it to EOF can finish (as Tokio).
  ///
  /// Resumes on: the calling worker if the child already exited; otherwise a
  /// worker of the runtime after the reactor saw its pidfd (or SIGCHLD).
  /// Cancellation: cancel-safe: the child keeps running and a later wait()
  /// (or the background reaper, once the child is destroyed) reaps it.
  /// Errors: std::system_error with the errno, e.g. ECHILD if something else
  /// in the process reaped it (waitpid(-1), SIGCHLD set to SIG_IGN);
  /// std::logic_error on a moved-from child.
  [[nodiscard]] task<exit_status> wait();

  /// Sends SIGKILL (through the pidfd where there is one, so a recycled pid
  /// is never hit). Does nothing once the child has been reaped. Then
  /// wait() gives `signal == SIGKILL`.
  /// Errors: std::system_error with the errno; std::logic_error on a
  /// moved-from child.
  void kill();

  /// The parent's ends of the pipes: each can be taken once, and only if
  /// that stream was stdio::piped (nullopt otherwise).
  std::optional<child_stdin> take_stdin() noexcept { return std::exchange(stdin_, std::nullopt); }
  /// The parent's end of the child's stdout pipe; as take_stdin().
  std::optional<child_output> take_stdout() noexcept { return std::exchange(stdout_, std::nullopt); }
  /// The parent's end of the child's stderr pipe; as take_stdin().
  std::optional<child_output> take_stderr() noexcept { return std::exchange(stderr_, std::nullopt); }

private:
  friend class command;
  explicit child(std::unique_ptr<detail::child_state> state) noexcept;

  std::unique_ptr<detail::child_state> state_;
  std::optional<child_stdin> stdin_;
  std::optional<child_output> stdout_;
  std::optional<child_output> stderr_;
};

/// A builder for a child process, as std::process::Command: the program,
/// its arguments, environment, working directory and stdio.
///
/// Example:
///     weft::process::command cmd("sh");
///     cmd.args({"-c", "echo hi; exit 3"}).set_stdout(weft::process::stdio::piped);
///     weft::process::child c = cmd.spawn();
///     auto out = *c.take_stdout();
///     weft::process::exit_status st = co_await c.wait();   // st.code == 3
class command {
public:
  /// `program`: a path (with a '/'), or a name looked up in PATH.
  explicit command(std::string program);

  /// Appends one argument (argv[1], argv[2], ...).
  command& arg(std::string argument);
  /// Appends several. g++ 12 rejects a braced list of string literals inside
  /// a `co_await` expression ("array used as initializer", a compiler bug):
  /// there, call args() on a named command first, or use arg().
  command& args(std::vector<std::string> arguments);
  /// Sets a variable in the child's environment (the parent's, unless
  /// env_clear() was called).
  command& env(std::string key, std::string value);
  /// Starts the child with an empty environment plus what env() sets.
  command& env_clear();
  /// The child's working directory (the parent's by default). A relative
  /// program path is looked up from the parent's directory, not this one.
  command& current_dir(std::filesystem::path dir);
  /// What the child's stdin is connected to (inherited by default; output()
  /// has its own defaults). Named set_* because stdin, stdout and stderr are
  /// macros in `<cstdio>`.
  command& set_stdin(stdio how);
  /// What the child's stdout is connected to; as set_stdin().
  command& set_stdout(stdio how);
  /// What the child's stderr is connected to; as set_stdin().
  command& set_stderr(stdio how);

  /// Starts the child now. stdio not set is inherited.
  /// Preconditions: inside a runtime (the child's pipes and exit are tied to it).
  /// Errors: std::system_error at once, with the errno and the program in
  /// what(): ENOENT (no such program), EACCES (not executable), EMFILE (out
  /// of descriptors for the pipes or the pidfd; nothing is left running);
  /// weft::no_runtime outside a runtime.
  child spawn();

  /// Runs the child to completion and collects its output: stdin is null
  /// and stdout and stderr piped unless set; both are read concurrently, so
  /// a child filling one pipe while the other is read never deadlocks.
  /// The command is copied into the task: it may be a temporary.
  ///
  /// Resumes on: a worker of the runtime.
  /// Cancellation: the child is not killed; it is reaped in the background.
  /// Errors: as spawn() (when first awaited) and child::wait().
  [[nodiscard]] task<captured_output> output() const;

  /// Runs the child to completion and gives its status; stdio not set is
  /// inherited. The command is copied into the task.
  /// Errors: as spawn() (when first awaited) and child::wait().
  [[nodiscard]] task<exit_status> status() const;

private:
  std::string program_;
  std::vector<std::string> args_;
  std::vector<std::pair<std::string, std::string>> env_;   // in call order; later wins
  bool env_clear_ = false;
  std::optional<std::filesystem::path> dir_;
  std::optional<stdio> stdin_, stdout_, stderr_;
};

}  // namespace weft::process

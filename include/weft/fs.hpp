// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::fs`: file-system calls for async code. Each call runs on the
/// runtime's blocking pool, as tokio::fs does: Linux has no readiness
/// notification for regular files, so the calls block a pool thread, never
/// an async worker.
///
/// Common to every function here:
///
/// Thread safety: any task may call any of them at once; what concurrent
/// calls on the same path do is up to the file system, as for the POSIX
/// calls underneath.
///
/// Resumes on: a worker of the current runtime, once the blocking call has
/// returned (never on the blocking thread).
///
/// Cancellation: like every task, the call starts when awaited. If the
/// awaiting frame is destroyed (abort, weft::timeout) before a pool thread
/// has taken the call, it never runs; once it has started it runs to
/// completion and its result is dropped — a write may then still happen.
///
/// Errors: a failure throws std::filesystem::filesystem_error whose path1()
/// is the path the call was given (and path2() the destination, for
/// rename), and whose code() is the errno, in std::generic_category (as
/// std::filesystem reports it). weft::no_runtime outside a runtime; a
/// cancelled join_error if the runtime shuts down before the call ran.
///
/// Example:
///     co_await weft::fs::create_dir_all(dir);
///     co_await weft::fs::write(dir / "greeting.txt", "hello\n");
///     std::string text = co_await weft::fs::read_to_string(dir / "greeting.txt");

#include <weft/task.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace weft::fs {

/// What fs::metadata reports about a path (symbolic links followed, as
/// stat(2) and tokio::fs::metadata do).
struct file_metadata {
  /// Regular file, directory, and so on (of the link's target, for a symbolic link).
  std::filesystem::file_type type = std::filesystem::file_type::none;
  /// The mode's permission bits, set-id and sticky bits included (st_mode & 07777).
  std::filesystem::perms permissions = std::filesystem::perms::none;
  /// Bytes, for a regular file; what the OS reports for anything else.
  std::uintmax_t size = 0;
  /// Last modification, to the nanosecond where the file system keeps it.
  std::chrono::system_clock::time_point modified;

  /// True for a regular file.
  bool is_file() const noexcept { return type == std::filesystem::file_type::regular; }
  /// True for a directory.
  bool is_dir() const noexcept { return type == std::filesystem::file_type::directory; }
};

/// Reads the whole file into a string, bytes unchanged (no UTF-8 check,
/// unlike Tokio: a std::string holds any bytes).
/// Errors: as the file doc; e.g. ENOENT if missing, EISDIR for a directory.
[[nodiscard]] task<std::string> read_to_string(std::filesystem::path path);

/// Reads the whole file into a byte vector.
/// Errors: as read_to_string.
[[nodiscard]] task<std::vector<std::byte>> read(std::filesystem::path path);

/// Creates `path` (or truncates it) and writes `contents` to it, with mode
/// 0666 before the umask. The bytes are copied when write is called, so
/// the caller's buffer need not outlive the call.
/// Errors: as the file doc; e.g. ENOENT if the parent directory is
/// missing, EISDIR if `path` is a directory.
[[nodiscard]] task<void> write(std::filesystem::path path, std::span<const std::byte> contents);

/// As write(path, bytes), for text. The characters are copied when write is
/// called (before the task first suspends), so a temporary string is fine:
/// `auto t = fs::write(p, std::string(...)); co_await t;`
[[nodiscard]] task<void> write(std::filesystem::path path, std::string_view contents);

/// Creates `path` and any missing parents; an existing directory is fine.
/// Errors: as the file doc; e.g. ENOTDIR if `path` or one of its parents
/// is a file.
[[nodiscard]] task<void> create_dir_all(std::filesystem::path path);

/// Removes a file or symbolic link (unlink(2)); never a directory.
/// Errors: as the file doc; e.g. ENOENT if missing, EISDIR for a directory.
[[nodiscard]] task<void> remove_file(std::filesystem::path path);

/// Renames `from` to `to` (rename(2)), replacing `to` if it is a file.
/// Errors: as the file doc, with path1() `from` and path2() `to`; e.g.
/// ENOENT if `from` is missing, EISDIR if `to` is a directory and `from`
/// is not.
[[nodiscard]] task<void> rename(std::filesystem::path from, std::filesystem::path to);

/// Describes `path` (see file_metadata).
/// Errors: as the file doc; e.g. ENOENT if missing.
[[nodiscard]] task<file_metadata> metadata(std::filesystem::path path);

/// The entries of the directory `path`, without "." and "..", in the order
/// the file system gives them (unspecified: sort if it matters). Each entry
/// caches the file type the directory listing reported.
/// Errors: as the file doc; e.g. ENOENT if missing, ENOTDIR for a file.
[[nodiscard]] task<std::vector<std::filesystem::directory_entry>> read_dir(std::filesystem::path path);

}  // namespace weft::fs

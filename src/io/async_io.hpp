// SPDX-License-Identifier: MIT
#pragma once
// async_io: the one readiness loop every I/O operation of weft runs — socket
// reads, writes, accepts and connects (net/), child-process pipes and pidfds
// (process/), the signal pipe (signal/). Tokio's Registration::async_io is the
// model:
//
//   ticket = reg.ticket(dir)      // before the syscall: see io/reactor.cpp
//   op() -> a result >= 0: done | -1 with errno EINTR: again |
//           EAGAIN/EWOULDBLOCK: readiness_awaiter(reg, dir, ticket), again |
//           any other errno: std::system_error
//
// so the common case (data or room already there) costs one syscall and no
// suspension, and a wake that finds nothing just waits again. The syscall
// runs only in the calling task, never in the reactor: a task cancelled while
// it waits has performed nothing, which is what makes the operations built on
// it cancel-safe.
#include "io/registration.hpp"

#include <weft/task.hpp>

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace weft::detail {

/// True if `error` says "try again when ready".
inline bool is_would_block(int error) noexcept { return error == EAGAIN || error == EWOULDBLOCK; }

/// std::system_error(errno-category `error`) whose what() is "`what`" or,
/// with a subject (a path, a host, a program), "`what`: `subject`".
[[noreturn]] inline void throw_io_error(int error, const char* what, std::string_view subject = {}) {
  if (subject.empty()) throw std::system_error(error, std::generic_category(), what);
  std::string text(what);
  text.append(": ").append(subject);
  throw std::system_error(error, std::generic_category(), text);
}

/// Runs `op` — a non-blocking syscall wrapper returning a value >= 0 on
/// success and -1 with errno set on failure — until it succeeds, waiting for
/// `dir` readiness of `reg` whenever it would block; gives its result as a
/// `Result` (e.g. `async_io<std::size_t>(...)` for a byte count).
///
/// `reg` is taken by pointer, as the frame keeps it: it must outlive the
/// returned task (the io_object that owns it does, while its socket, pipe or
/// child is alive). `what` must be a string literal (it is kept in the
/// frame); `subject`, if any, must outlive the returned task (a parameter of
/// the awaiting coroutine does). `op` is stored by value in the frame:
/// capture what it needs by value, or by reference to the awaiting frame.
///
/// Resumes on: the calling thread if `op` succeeds at once; otherwise a
/// worker of the runtime that owns `reg`.
/// Cancellation: destroying the task while it waits unlinks it; `op` ran to
/// completion every time it ran, and its failed would-block attempts did
/// nothing.
/// Errors: std::system_error with the errno of the failed `op`.
template <class Result, class Op>
  requires std::is_signed_v<std::invoke_result_t<Op&>>
task<Result> async_io(registration* reg, direction dir, const char* what, Op op, std::string_view subject = {}) {
  for (;;) {
    const std::uint32_t ticket = reg->ticket(dir);
    const auto result = op();
    if (result >= 0) co_return static_cast<Result>(result);
    const int error = errno;
    if (error == EINTR) continue;
    if (!is_would_block(error)) throw_io_error(error, what, subject);
    readiness_awaiter ready(*reg, dir, ticket);
    co_await ready;
  }
}

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::join_error`: the join layer of a task's failure — it was cancelled,
/// or it threw (Tokio's JoinError). The task's own result is the second layer.

#include <weft/task_id.hpp>

#include <exception>
#include <source_location>
#include <string>

namespace weft {

/// Why awaiting a join_handle did not give the task's value.
///
/// Thrown by `co_await handle` when the task was cancelled (a task that threw
/// has its own exception rethrown instead); returned as a value by
/// `co_await handle.join()` in both cases.
class join_error : public std::exception {
public:
  /// The task `id`, spawned at `where`, was cancelled.
  static join_error cancelled(task_id id, std::source_location where);
  /// The task `id`, spawned at `where`, threw `payload` (or, for a blocking
  /// closure that never got a thread, the std::system_error of the refusal).
  static join_error panicked(task_id id, std::source_location where, std::exception_ptr payload);
  /// The blocking job `id`, spawned at `where`, was refused by a bounded
  /// pool; `reason`'s what() says which and why ("rejected by pool \"db\":
  /// queue full").
  static join_error rejected(task_id id, std::source_location where, const std::exception_ptr& reason);

  /// The task was cancelled: aborted, or cancelled by runtime shutdown.
  bool is_cancelled() const noexcept { return !payload_ && !rejected_; }
  /// The task failed with an exception (see panicked()); panic_payload()
  /// holds it.
  bool is_panic() const noexcept { return static_cast<bool>(payload_); }
  /// Refused by a full pool, or waited longer than its max_queue_wait
  /// (weft/pool.hpp): neither cancelled nor a panic. The closure never ran.
  bool is_rejected() const noexcept { return rejected_; }
  /// What the task threw; null unless is_panic().
  std::exception_ptr panic_payload() const noexcept { return payload_; }
  /// The id of the task that failed (as join_handle::id()).
  task_id id() const noexcept { return id_; }
  /// "task 7 (spawned at main.cpp:42) panicked: boom" / "task 7 (...) was cancelled" /
  /// "task 7 (...) was rejected by pool \"db\": queue full".
  const char* what() const noexcept override { return message_.c_str(); }

private:
  // NOLINTBEGIN(bugprone-throw-keyword-missing): payload_ is an exception_ptr member, not an exception to throw
  join_error(task_id id, std::exception_ptr payload, std::string message, bool rejected = false) noexcept
      : id_(id), payload_(std::move(payload)), message_(std::move(message)), rejected_(rejected) {}
  // NOLINTEND(bugprone-throw-keyword-missing)
  task_id id_;
  std::exception_ptr payload_;
  std::string message_;
  bool rejected_ = false;
};

}  // namespace weft

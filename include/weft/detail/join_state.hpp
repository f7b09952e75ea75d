// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The result slot of a spawned task or blocking job, read by its join_handle.

#include <weft/detail/task_header.hpp>
#include <weft/join_error.hpp>
#include <weft/task.hpp>

#include <coroutine>
#include <exception>
#include <expected>
#include <variant>

namespace weft::detail {

/// Why a bounded pool refused a job: an exception whose what() is the
/// reason ("rejected by pool \"db\": queue full"), shared by the pool's rejections.
struct rejection {
  std::exception_ptr why;
};

/// A task_header with somewhere to put the result. The producer writes the
/// result, then calls finish(); the join handle reads it once is_complete().
template <class T>
class join_state : public task_header {
public:
  /// Gives the join layer as a value. Preconditions: is_complete(), called once.
  std::expected<T, join_error> take_result() noexcept(std::is_nothrow_move_constructible_v<stored_t<T>>) {
    switch (result_.index()) {
    case 1:
      if constexpr (std::is_void_v<T>) return {};
      else return std::move(std::get<1>(result_));
    case 2: return std::unexpected(join_error::panicked(id(), spawned_at(), std::move(std::get<2>(result_))));
    case 4: return std::unexpected(join_error::rejected(id(), spawned_at(), std::get<4>(result_).why));
    default: return std::unexpected(join_error::cancelled(id(), spawned_at()));
    }
  }

  /// Gives the value for `co_await handle`: moves it out, rethrows what the
  /// task threw, or throws join_error if it was cancelled. Preconditions:
  /// is_complete(), called once.
  T take_value() {
    if (result_.index() == 1) [[likely]] {
      if constexpr (std::is_void_v<T>) return;
      else return std::move(std::get<1>(result_));
    }
    // Moved out: the exception is then destroyed where it is caught, not by
    // whichever thread drops the task's last reference after the catch (a
    // worker, racing the catcher's reads of a refcounted what() string in
    // ThreadSanitizer's eyes, which do not see libstdc++'s atomics).
    if (result_.index() == 2) std::rethrow_exception(std::move(std::get<2>(result_)));
    if (result_.index() == 4) throw join_error::rejected(id(), spawned_at(), std::get<4>(result_).why);
    throw join_error::cancelled(id(), spawned_at());
  }

protected:
  using task_header::task_header;

  /// 0: cancelled (or not yet set), 1: value, 2: exception; 3: a spawned
  /// task's coroutine while it runs (spawned_task keeps it here, where
  /// nothing else lives until there is a result, rather than in 8 more
  /// bytes of header); 4: a blocking job a bounded pool refused (no larger
  /// than the exception_ptr, so no task grows).
  std::variant<std::monostate, stored_t<T>, std::exception_ptr, std::coroutine_handle<>, rejection> result_;
};

}  // namespace weft::detail

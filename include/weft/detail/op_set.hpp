// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The operands of one when_all / when_any, each in its child frame, and
/// the loop steps that poll, cancel and collect them. Internal; not API.

#include <weft/detail/awaitable.hpp>
#include <weft/detail/frame_borrow.hpp>
#include <weft/detail/op_group.hpp>
#include <weft/task.hpp>

#include <array>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace weft::detail {

/// What a combinator gives for an operand: its co_await result, with
/// std::monostate for void.
template <class A>
using op_result_t = stored_t<await_result_t<A>>;

/// Wraps an operand that is not already a task in a coroutine frame.
template <class A>
task<await_result_t<A>> op_task(A op) {
  co_return co_await std::move(op);
}

template <class A>
auto op_frame(A&& op) {
  using R = await_result_t<A>;
  if constexpr (std::is_same_v<std::remove_cvref_t<A>, task<R>>)
    return access::release(std::forward<A>(op));   // no wrapper
  else return access::release(op_task(std::forward<A>(op)));
}

template <class T>
bool has_exception(const task_promise<T>& p) noexcept {
  if constexpr (std::is_void_v<T>) return static_cast<bool>(p.error_);
  else return p.result_.index() == 2;
}

template <class... A>
class op_set {
public:
  static constexpr std::size_t size = sizeof...(A);
  static constexpr std::size_t none = ~std::size_t{0};
  static_assert(size <= op_group::max_ops, "weft: when_all/when_any take at most 64 operations");

  explicit op_set(A&... ops) : group_(op_group::create(size)) {
    try {
      std::size_t i = 0;
      ((group_->child(i).set_frame(op_frame(std::move(ops))), ++i), ...);
    } catch (...) {
      close();
      throw;
    }
  }
  op_set(const op_set&) = delete;
  op_set& operator=(const op_set&) = delete;
  ~op_set() { close(); }

  /// Steps every ready operation in argument order; gives the first that
  /// finished, or none.
  std::size_t step_any() noexcept {
    const std::uint64_t ready = group_->take_ready();
    for (std::size_t i = 0; i < size; ++i) {
      op_child& c = group_->child(i);
      if ((ready >> i & 1) != 0 && c.frame() && !c.is_complete() && c.step()) return i;
    }
    return none;
  }

  /// Steps every ready operation; true once all finished or one threw
  /// (then failed() names the first to throw).
  bool step_all() noexcept {
    const std::uint64_t ready = group_->take_ready();
    for (std::size_t i = 0; i < size; ++i) {
      op_child& c = group_->child(i);
      if ((ready >> i & 1) == 0 || c.is_complete() || !c.step()) continue;
      ++num_done_;
      if (failed_ == none && threw(i)) failed_ = i;
    }
    return failed_ != none || num_done_ == size;
  }
  std::size_t failed() const noexcept { return failed_; }

  /// Suspends the parent until an operation is woken.
  auto wait() noexcept {
    struct awaiter {
      op_group* group;
      bool await_ready() const noexcept { return false; }
      bool await_suspend(std::coroutine_handle<> self) const noexcept {
        task_header* parent = group->parent_task();
        waker w = parent->prepare_suspend(self);
        // Already woken (a wake during the steps): go round through the
        // scheduler rather than loop here, so a yielding operation yields.
        if (group->arm(w)) w.wake();
        return true;
      }
      void await_resume() const noexcept {}
    };
    return awaiter{group_};
  }

  /// Cancels every unfinished operation but `keep`: destroys its frame,
  /// or, if a run_blocking inside it borrows the frame, asks the closure to
  /// stop. True while some are still borrowed (wait, then call again).
  bool cancel_except(std::size_t keep) noexcept {
    bool borrowed = false;
    for (std::size_t i = 0; i < size; ++i) {
      op_child& c = group_->child(i);
      if (i == keep || !c.frame()) continue;
      if (c.is_borrowed()) {
        if (!asked_to_stop_[i]) {
          asked_to_stop_[i] = true;
          cancel_borrows_under(c);
        }
        borrowed = true;
        continue;
      }
      c.release_frame();
    }
    // The ready bits stay: a borrowed operation woken since its check must
    // still wake the wait() that follows.
    return borrowed;
  }

  /// The result of operation I; rethrows its exception.
  template <std::size_t I>
  auto take() {
    using R = await_result_t<std::tuple_element_t<I, std::tuple<A...>>>;
    auto frame = std::coroutine_handle<task_promise<R>>::from_address(group_->child(I).frame().address());
    if constexpr (std::is_void_v<R>) {
      frame.promise().take();
      return std::monostate{};
    } else {
      return frame.promise().take();
    }
  }

  /// Rethrows the exception of operation i (which threw).
  template <std::size_t I = 0>
  void rethrow(std::size_t i) {
    if constexpr (I + 1 < size)
      if (i != I) return rethrow<I + 1>(i);
    (void)take<I>();
  }

  /// The result of operation i, as alternative i of Variant.
  template <class Variant, std::size_t I = 0>
  Variant take_variant(std::size_t i) {
    if constexpr (I + 1 < size)
      if (i != I) return take_variant<Variant, I + 1>(i);
    return Variant(std::in_place_index<I>, take<I>());
  }

private:
  bool threw(std::size_t i) noexcept { return threw_impl(i, std::index_sequence_for<A...>{}); }

  template <std::size_t... I>
  bool threw_impl(std::size_t i, std::index_sequence<I...>) noexcept {
    bool result = false;
    ((i == I ? (result = has_exception(promise_of<I>())) : false), ...);
    return result;
  }
  template <std::size_t I>
  auto& promise_of() noexcept {
    using R = await_result_t<std::tuple_element_t<I, std::tuple<A...>>>;
    return std::coroutine_handle<task_promise<R>>::from_address(group_->child(I).frame().address()).promise();
  }

  void close() noexcept {
    for (std::size_t i = 0; i < size; ++i) group_->child(i).release_frame();
    group_->close();
  }

  op_group* group_;
  std::size_t num_done_ = 0;
  std::size_t failed_ = none;
  std::array<bool, size> asked_to_stop_{};
};

}  // namespace weft::detail

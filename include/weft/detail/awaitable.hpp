// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// What `co_await` accepts, as a concept, and what it gives: the one
/// definition that `timeout`, `when_all` and `when_any` share.
///
/// An operand of `co_await` in a weft::task (whose promise has no
/// await_transform) is either an awaiter itself (await_ready / await_suspend
/// / await_resume), or has a member `operator co_await`, or a free
/// `operator co_await` found by lookup — the same three cases, in the same
/// order, as the language ([expr.await]).

#include <coroutine>
#include <type_traits>
#include <utility>

namespace weft {
namespace detail {

/// Has await_ready, await_suspend (for some coroutine) and await_resume.
template <class A>
concept awaiter = requires(A& a, std::coroutine_handle<> h) {
  { a.await_ready() } -> std::convertible_to<bool>;
  a.await_suspend(h);
  a.await_resume();
};

template <class A>
concept has_member_co_await = requires(A&& a) { std::forward<A>(a).operator co_await(); };

template <class A>
concept has_free_co_await = requires(A&& a) { operator co_await(std::forward<A>(a)); };

/// The awaiter that `co_await std::forward<A>(a)` would use.
template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (has_member_co_await<A>) return std::forward<A>(a).operator co_await();
  else if constexpr (has_free_co_await<A>) return operator co_await(std::forward<A>(a));
  else return std::forward<A>(a);
}

}  // namespace detail

/// Anything `co_await` accepts (taken as an rvalue, as the combinators do):
/// a task, a join_handle, `h.join()`, an awaiter, or a type with a member or
/// free `operator co_await` whose result is an awaiter.
template <class A>
concept awaitable = requires(A&& a) {
  { detail::get_awaiter(std::forward<A>(a)) } -> detail::awaiter;
};

/// What `co_await std::declval<A>()` gives (by value: a reference result is
/// decayed, since the combinators store it).
template <awaitable A>
using await_result_t = std::remove_cvref_t<decltype(detail::get_awaiter(std::declval<A>()).await_resume())>;

}  // namespace weft

// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::join_set<T>`: a group of spawned tasks whose results are awaited
/// in the order they finish, not the order they were spawned (Tokio's
/// JoinSet).

#include <weft/detail/join_set_state.hpp>
#include <weft/join_error.hpp>
#include <weft/runtime.hpp>
#include <weft/task.hpp>

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace weft {

/// Owns a group of tasks, all producing `T`, and gives their results as
/// they finish.
///
/// A member stays in the set from spawn until join_next (or try_join_next)
/// hands out its result, so size() counts finished members whose results
/// are not yet joined.
///
/// Thread safety: the set itself is used by one task at a time, as a
/// join_handle is (spawn, join_next and abort_all are not concurrent with
/// each other). Its members run on any worker and report from any thread.
///
/// Resumes on: a suspended join_next resumes on a worker of the runtime of
/// the awaiting task, woken by the member that finished.
///
/// Cancellation: destroying the set aborts every member still in it — each
/// is cancelled at its next suspension point — and does not wait for them;
/// members that finish later are dropped with their results. join_next is
/// cancel-safe: if its frame is destroyed (abort, weft::timeout) it has
/// taken nothing, and the next join_next gets the result.
///
/// Errors: each result is `std::expected<T, join_error>`: a member that
/// threw is is_panic() (with the exception as payload), an aborted one
/// is_cancelled(); the error's id() is the one spawn returned. spawn throws
/// weft::no_runtime outside a runtime and std::invalid_argument for an
/// empty task; the set is then unchanged.
///
/// Example:
///     weft::join_set<int> set;
///     for (int i = 0; i < 10; ++i) set.spawn(fetch(i));
///     for (;;) {
///       auto next = co_await set.join_next();
///       if (!next) break;              // the set is empty
///       if (*next) total += **next;    // else (*next).error() says why
///     }
template <class T>
class join_set {
public:
  /// What each member task gives.
  using value_type = T;
  /// What join_next() gives for one member.
  using result_type = std::expected<T, join_error>;

  join_set() noexcept = default;
  /// Moves the members; the source is left empty.
  join_set(join_set&&) noexcept = default;
  join_set(const join_set&) = delete;
  join_set& operator=(const join_set&) = delete;
  /// Aborts the members of this set (as abort_all()), then takes `other`'s;
  /// `other` is left empty.
  join_set& operator=(join_set&& other) noexcept;
  /// Aborts the members still in the set (see Cancellation above).
  ~join_set() { abort_all(); }

  /// Spawns `work` on the current runtime as a member of this set and
  /// returns its task id.
  task_id spawn(task<T> work, std::source_location where = std::source_location::current());

  /// Runs `f` on the current runtime's blocking pool (as weft::spawn_blocking)
  /// as a member of this set; what `f` returns must convert to `T`. Aborting
  /// it (abort_all, destroying the set) cancels it if it has not started;
  /// once started it runs to completion and its result is what join_next
  /// gives, as for a join_handle.
  template <class F>
  task_id spawn_blocking(F&& f, std::source_location where = std::source_location::current());

  /// Waits for the next member to finish and gives its result; nullopt once
  /// the set is empty (at once, if it is empty when called).
  ///
  /// Resumes on: see the class doc. Cancellation: cancel-safe (class doc).
  /// Errors: std::logic_error if awaited outside a weft task.
  [[nodiscard]] task<std::optional<result_type>> join_next();

  /// The result of a member that has already finished, without waiting;
  /// nullopt if none has (or the set is empty).
  [[nodiscard]] std::optional<result_type> try_join_next();

  /// Aborts every member. Their results still come through join_next: a
  /// member that was cancelled is_cancelled(); one that had already
  /// finished, or a blocking closure that had started, gives its result.
  void abort_all() noexcept;

  /// Aborts every member and waits until all of them have ended, dropping
  /// their results; the set is then empty.
  [[nodiscard]] task<void> shutdown();

  /// Members spawned and not yet joined.
  std::size_t size() const noexcept { return members_.size() - free_slots_.size(); }
  /// True if size() is 0.
  bool is_empty() const noexcept { return size() == 0; }

private:
  std::shared_ptr<detail::join_set_shared<T>>& shared();
  std::uint32_t claim_slot();
  void abandon(std::uint32_t slot) noexcept;

  // Members are kept in slots so that a result (which names its slot) finds
  // its member in O(1); a freed slot is reused. Invariant:
  // free_slots_.capacity() >= members_.size(), so freeing never allocates.
  std::shared_ptr<detail::join_set_shared<T>> shared_;   // created by the first spawn
  std::vector<detail::join_set_member> members_;
  std::vector<std::uint32_t> free_slots_;
};

// ---------------------------------------------------------------------------

template <class T>
join_set<T>& join_set<T>::operator=(join_set&& other) noexcept {
  if (this != &other) {
    abort_all();
    shared_ = std::move(other.shared_);
    members_ = std::move(other.members_);
    free_slots_ = std::move(other.free_slots_);
    other.members_.clear();
    other.free_slots_.clear();
  }
  return *this;
}

template <class T>
task_id join_set<T>::spawn(task<T> work, std::source_location where) {
  if (!work.is_valid()) throw std::invalid_argument("weft: join_set::spawn of an empty task");
  detail::runtime_core& core = detail::current_core();
  auto& state = shared();
  const std::uint32_t slot = claim_slot();
  try {
    detail::join_set_job<T> job{detail::join_set_reporter<T>(state, slot), std::move(work)};
    join_handle<void> h = detail::spawn_task(core, detail::run_join_set_member(std::move(job)), where);
    members_[slot] = detail::join_set_member(h, where);
    return h.id();
  } catch (...) {
    abandon(slot);
    throw;
  }
}

template <class T>
template <class F>
task_id join_set<T>::spawn_blocking(F&& f, std::source_location where) {
  detail::runtime_core& core = detail::current_core();
  auto& state = shared();
  const std::uint32_t slot = claim_slot();
  try {
    detail::join_set_reporter<T> reporter(state, slot);
    auto job = detail::spawn_blocking_on(core, std::forward<F>(f), where);
    using R = typename decltype(job)::value_type;
    static_assert(std::is_void_v<T> ? std::is_void_v<R> : std::is_convertible_v<R, T>,
                  "weft::join_set<T>::spawn_blocking: the closure must return something convertible to T "
                  "(nothing, for join_set<void>).");
    detail::join_set_member member(job, where);
    try {
      // The watcher's own handle is dropped: the member entry aborts the job itself.
      join_handle<void> watcher =
          detail::spawn_task(core, detail::watch_join_set_member<T>(std::move(reporter), std::move(job)), where);
    } catch (...) {
      member.abort();   // the job must not run unwatched
      throw;
    }
    members_[slot] = std::move(member);
    return members_[slot].id();
  } catch (...) {
    abandon(slot);
    throw;
  }
}

template <class T>
task<std::optional<std::expected<T, join_error>>> join_set<T>::join_next() {
  for (;;) {
    // Taking a result and returning it happen in one step, with no
    // suspension point between them: that is the cancel safety.
    if (std::optional<result_type> ready = try_join_next()) co_return std::move(ready);
    if (is_empty()) co_return std::nullopt;
    // A wake means some member pushed; another join (try_join_next) may
    // have taken it first, so loop and look again.
    detail::join_set_wait<T> next_push(*shared_);
    co_await next_push;
  }
}

template <class T>
std::optional<std::expected<T, join_error>> join_set<T>::try_join_next() {
  if (!shared_) return std::nullopt;
  std::unique_ptr<detail::join_set_node<T>> node(shared_->try_pop());
  if (!node) return std::nullopt;
  const std::uint32_t slot = node->slot_;
  const detail::join_set_member& member = members_[slot];
  std::optional<result_type> result;
  switch (node->outcome_.index()) {
  case 1:
    if constexpr (std::is_void_v<T>) result.emplace();
    else result.emplace(std::move(std::get<1>(node->outcome_)));
    break;
  case 2:
    result.emplace(std::unexpect, join_error::panicked(member.id(), member.where(), std::get<2>(node->outcome_)));
    break;
  default: result.emplace(std::unexpect, join_error::cancelled(member.id(), member.where())); break;
  }
  members_[slot] = detail::join_set_member{};
  free_slots_.push_back(slot);   // never reallocates: see the invariant
  return result;
}

template <class T>
void join_set<T>::abort_all() noexcept {
  for (const detail::join_set_member& member : members_)
    if (member.is_live()) member.abort();
}

template <class T>
task<void> join_set<T>::shutdown() {
  abort_all();
  for (;;) {
    std::optional<result_type> dropped = co_await join_next();
    if (!dropped) co_return;
  }
}

template <class T>
std::shared_ptr<detail::join_set_shared<T>>& join_set<T>::shared() {
  if (!shared_) shared_ = std::make_shared<detail::join_set_shared<T>>();
  return shared_;
}

template <class T>
std::uint32_t join_set<T>::claim_slot() {
  if (!free_slots_.empty()) {
    const std::uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  free_slots_.reserve(members_.size() + 1);   // keeps the invariant
  members_.emplace_back();
  return static_cast<std::uint32_t>(members_.size() - 1);
}

template <class T>
void join_set<T>::abandon(std::uint32_t slot) noexcept {
  shared_->discard(slot);   // the failed wrapper may have reported itself cancelled
  members_[slot] = detail::join_set_member{};
  free_slots_.push_back(slot);
}

}  // namespace weft

// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::watch`: a single value that one sender updates and many receivers
/// read, waiting for changes — for configuration, state, shutdown signals
/// (Tokio's watch). Only the latest value is kept.

#include <weft/detail/waiter_list.hpp>

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <utility>

namespace weft::watch {

template <std::movable T>
class sender;
template <std::movable T>
class receiver;
template <class T>
class value_ref;

/// Creates a watch channel holding `initial`:
/// `auto [tx, rx] = weft::watch::channel(config{});`
/// The first receiver has seen `initial` (changed() waits for a send).
template <std::movable T>
[[nodiscard]] std::pair<sender<T>, receiver<T>> channel(T initial);

}  // namespace weft::watch

namespace weft::detail {

/// The shared state. A version number counts sends; a receiver remembers
/// the version it last saw. Receivers waiting in changed() are woken all at
/// once by a send and are not handed anything — they read the version on
/// resumption — so a cancelled changed() consumes nothing.
template <class T>
struct watch_state {
  explicit watch_state(T initial) : value_(std::move(initial)) {}

  mutable std::shared_mutex mutex_;   // guards every member below; shared by value_ref readers
  T value_;
  std::uint64_t version_ = 0;
  bool has_sender_ = true;
  std::size_t num_receivers_ = 1;
  waiter_list waiters_;
};

}  // namespace weft::detail

namespace weft::watch {

/// Read access to the current value; holds a shared lock on it.
///
/// Thread safety: drop it before any co_await, and soon: the lock belongs to
/// the thread that took it (a task may resume on another worker), and send()
/// blocks while any value_ref exists.
template <class T>
class [[nodiscard]] value_ref {
public:
  /// The value.
  const T& operator*() const noexcept { return *value_; }
  /// Pointer to the value, for member access.
  const T* operator->() const noexcept { return value_; }
  /// The value, as operator*.
  const T& get() const noexcept { return *value_; }

private:
  friend class sender<T>;
  friend class receiver<T>;
  explicit value_ref(const detail::watch_state<T>& state) : lock_(state.mutex_), value_(&state.value_) {}
  std::shared_lock<std::shared_mutex> lock_;
  const T* value_;
};

/// The sending half: replaces the value and wakes the receivers.
///
/// Move-only; destroying it closes the channel (changed() gives false once
/// the last value has been seen). Thread safety: one sender is used by one
/// thread at a time, which may be any thread.
template <std::movable T>
class sender {
public:
  /// Moves the sender; `other` is left moved-from.
  sender(sender&& other) noexcept = default;
  sender(const sender&) = delete;
  sender& operator=(const sender&) = delete;
  /// Takes `other`'s channel; the sender this one was is destroyed, which closes
  /// its channel.
  sender& operator=(sender&& other) noexcept {
    sender(std::move(other)).state_.swap(state_);
    return *this;
  }
  ~sender() {
    if (!state_) return;
    std::unique_lock lock(state_->mutex_);
    state_->has_sender_ = false;
    detail::wake_all(state_->waiters_, detail::waiter_status::notified, lock);
  }

  /// Replaces the value and wakes every receiver waiting in changed() (they
  /// resume on a worker of their runtime, never inline here). The value is
  /// stored even with no receivers, for receivers subscribed later; gives
  /// whether any receiver exists.
  /// Errors: what T's move assignment throws (then nothing changes).
  bool send(T value) {
    std::unique_lock lock(state_->mutex_);
    std::swap(state_->value_, value);   // the old value dies after the unlock
    ++state_->version_;
    const bool has_receivers = state_->num_receivers_ != 0;
    detail::wake_all(state_->waiters_, detail::waiter_status::notified, lock);
    return has_receivers;
  }

  /// The current value (see value_ref: drop it before any co_await).
  value_ref<T> borrow() const { return value_ref<T>(*state_); }

  /// A new receiver that has seen the current value.
  [[nodiscard]] receiver<T> subscribe() const { return receiver<T>(state_); }

  /// True once no receiver exists.
  bool is_closed() const {
    std::shared_lock lock(state_->mutex_);
    return state_->num_receivers_ == 0;
  }

private:
  friend std::pair<sender<T>, receiver<T>> channel<T>(T);
  explicit sender(std::shared_ptr<detail::watch_state<T>> state) noexcept : state_(std::move(state)) {}

  std::shared_ptr<detail::watch_state<T>> state_;
};

/// A receiving half: reads the latest value and waits for changes.
///
/// Copyable: a copy has seen what the original has seen. Thread safety: one
/// receiver is used by one thread at a time. It must outlive the changed()
/// operations it starts.
///
/// Example:
///     while (co_await rx.changed()) apply(*rx.borrow_and_update());
template <std::movable T>
class receiver {
public:
  class changed_op;

  /// Another receiver on the same channel that has seen what `other` has seen.
  receiver(const receiver& other) : state_(other.state_), seen_(other.seen_) { add_receiver(); }
  /// Moves the receiver; `other` is left moved-from.
  receiver(receiver&& other) noexcept = default;
  /// Becomes another receiver on `other`'s channel that has seen what `other`
  /// has seen; the receiver this one was is dropped, as on destruction.
  receiver& operator=(const receiver& other) { return *this = receiver(other); }
  /// Takes `other`'s channel and what it has seen; the receiver this one was is
  /// dropped, as on destruction.
  receiver& operator=(receiver&& other) noexcept {
    receiver taken(std::move(other));
    state_.swap(taken.state_);
    std::swap(seen_, taken.seen_);
    return *this;
  }
  ~receiver() {
    if (!state_) return;
    std::lock_guard lock(state_->mutex_);
    --state_->num_receivers_;
  }

  /// The current value, without marking it seen (drop it before any co_await).
  value_ref<T> borrow() const { return value_ref<T>(*state_); }
  /// The current value, marking it seen.
  value_ref<T> borrow_and_update() {
    value_ref<T> ref(*state_);
    seen_ = state_->version_;   // read under ref's shared lock
    return ref;
  }
  /// True if a value was sent since this receiver last marked one seen.
  bool has_changed() const {
    std::shared_lock lock(state_->mutex_);
    return state_->version_ != seen_;
  }

  /// Waits for a value this receiver has not seen, and marks it seen;
  /// `co_await rx.changed()` gives true, or false once the sender is gone
  /// and nothing new can come. Several sends while it waits count as one.
  ///
  /// Resumes on: at once, on the awaiting thread, if an unseen value is
  /// there (or the sender is gone); otherwise a worker of the runtime, woken
  /// by send() (never inline inside send).
  /// Cancellation: if the awaiting frame is destroyed (abort, timeout), the
  /// wait is withdrawn and nothing is marked seen: the next changed() still
  /// reports the change.
  /// Errors: std::logic_error if awaited outside a weft task.
  [[nodiscard]] changed_op changed() noexcept { return changed_op(*this); }

private:
  friend class sender<T>;
  friend std::pair<sender<T>, receiver<T>> channel<T>(T);
  /// Subscribes: counts itself and has seen the current version.
  explicit receiver(std::shared_ptr<detail::watch_state<T>> state)
      : state_(std::move(state)), seen_(add_receiver_and_read_version()) {}
  receiver(std::shared_ptr<detail::watch_state<T>> state, std::uint64_t seen) noexcept
      : state_(std::move(state)), seen_(seen) {}

  void add_receiver() {
    if (!state_) return;
    std::lock_guard lock(state_->mutex_);
    ++state_->num_receivers_;
  }
  /// add_receiver(), then the current version, read under the lock.
  std::uint64_t add_receiver_and_read_version() {
    add_receiver();
    std::shared_lock lock(state_->mutex_);
    return state_->version_;
  }

  std::shared_ptr<detail::watch_state<T>> state_;
  std::uint64_t seen_ = 0;   // the version this receiver last marked seen
};

/// What receiver::changed returns: await it (once). Movable until awaited,
/// so it can be handed to weft::timeout.
template <std::movable T>
class [[nodiscard]] receiver<T>::changed_op {
public:
  /// Waits for an unseen value; see receiver::changed().
  auto operator co_await() && noexcept { return awaiter(*rx_); }

private:
  friend class receiver;
  explicit changed_op(receiver& rx) noexcept : rx_(&rx) {}

  // Holds the waiter node, so it stays where the coroutine put it.
  struct awaiter {
    explicit awaiter(receiver& rx) noexcept : rx_(rx) {}
    awaiter(const awaiter&) = delete;
    awaiter& operator=(const awaiter&) = delete;
    ~awaiter() {
      if (!is_pending_) return;
      std::lock_guard lock(rx_.state_->mutex_);
      node_.unlink();
    }
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> resume_at) {
      detail::require_task();
      auto& state = *rx_.state_;
      std::lock_guard lock(state.mutex_);
      if (state.version_ != rx_.seen_ || !state.has_sender_) return false;
      node_.waker_ = detail::suspend_current(resume_at);
      state.waiters_.push_back(node_);
      is_pending_ = true;
      return true;
    }
    bool await_resume() {
      is_pending_ = false;
      std::shared_lock lock(rx_.state_->mutex_);
      if (rx_.state_->version_ == rx_.seen_) return false;   // woken by the sender leaving
      rx_.seen_ = rx_.state_->version_;
      return true;
    }
    receiver& rx_;
    detail::waiter_node node_;
    bool is_pending_ = false;
  };

  receiver* rx_;
};

// ---------------------------------------------------------------------------

template <std::movable T>
std::pair<sender<T>, receiver<T>> channel(T initial) {
  auto state = std::make_shared<detail::watch_state<T>>(std::move(initial));
  return {sender<T>(state), receiver<T>(std::move(state), 0)};
}

}  // namespace weft::watch

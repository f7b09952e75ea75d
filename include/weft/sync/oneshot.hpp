// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::oneshot`: a channel for exactly one value, from any thread to one
/// task — the usual way to get a reply back (Tokio's oneshot).

#include <weft/channel_closed.hpp>
#include <weft/detail/waiter_list.hpp>

#include <concepts>
#include <coroutine>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

namespace weft::oneshot {

template <std::move_constructible T>
class sender;
template <std::move_constructible T>
class receiver;

/// Why try_recv() gave no value.
enum class try_recv_error {
  empty,    ///< nothing sent yet; the sender still exists
  closed,   ///< the sender was destroyed without sending, or the value was taken
};

/// Creates a oneshot channel: `auto [tx, rx] = weft::oneshot::channel<int>();`
///
/// One allocation holds the shared state. The sender and the receiver are
/// move-only and may live on different threads. The value waits in the
/// shared state until the receiver takes it, so the receiver need not be
/// waiting when it is sent, and a wait that is cancelled loses nothing.
template <std::move_constructible T>
[[nodiscard]] std::pair<sender<T>, receiver<T>> channel();

}  // namespace weft::oneshot

namespace weft::detail {

template <class T>
struct oneshot_state {
  std::mutex mutex_;   // guards every member below
  std::optional<T> value_;
  waker rx_waker_;          // the receiver's, while it is suspended
  bool has_sender_ = true;  // false once sent or destroyed
  bool has_receiver_ = true;
};

}  // namespace weft::detail

namespace weft::oneshot {

/// The sending half: sends one value, once, from any thread.
///
/// Thread safety: one sender is used by one thread at a time; that thread
/// may be anything — a worker, a blocking closure (weft::spawn_blocking), a
/// std::thread outside the runtime. Destroying it unsent closes the channel:
/// the receiver gets weft::channel_closed.
template <std::move_constructible T>
class sender {
public:
  /// Moves the sender; `other` is left moved-from (as if used).
  sender(sender&& other) noexcept = default;
  sender(const sender&) = delete;
  sender& operator=(const sender&) = delete;
  /// Takes `other`'s channel; the sender this one was is destroyed, which
  /// closes its channel if it had not sent.
  sender& operator=(sender&& other) noexcept {
    sender(std::move(other)).swap(*this);
    return *this;
  }
  ~sender() { close(); }

  /// Sends `value` and wakes the receiver; true if the receiver exists.
  /// False if the receiver is gone: then `value` is dropped. Either way the
  /// sender is used up.
  ///
  /// Errors: std::logic_error if the sender was already used (sent, or
  /// moved from); whatever T's move constructor throws (then nothing is sent
  /// and the sender stays usable).
  bool send(T value) {
    if (!state_) throw std::logic_error("weft: oneshot::sender::send on a used or moved-from sender");
    detail::waker w;
    bool is_delivered = false;
    {
      std::lock_guard lock(state_->mutex_);
      if (state_->has_receiver_) {
        state_->value_.emplace(std::move(value));   // first: if it throws, nothing changed
        w = std::move(state_->rx_waker_);
        is_delivered = true;
      }
      state_->has_sender_ = false;
    }
    w.wake();   // after unlocking; the receiver resumes on a worker, not here
    state_.reset();
    return is_delivered;
  }

  /// True once the receiver is gone (a send would give false).
  bool is_closed() const {
    if (!state_) return true;
    std::lock_guard lock(state_->mutex_);
    return !state_->has_receiver_;
  }

  /// Exchanges the channels of the two senders.
  void swap(sender& other) noexcept { state_.swap(other.state_); }

private:
  friend std::pair<sender<T>, receiver<T>> channel<T>();
  explicit sender(std::shared_ptr<detail::oneshot_state<T>> state) noexcept : state_(std::move(state)) {}

  void close() noexcept {
    if (!state_) return;
    detail::waker w;
    {
      std::lock_guard lock(state_->mutex_);
      state_->has_sender_ = false;
      w = std::move(state_->rx_waker_);
    }
    w.wake();
    state_.reset();
  }

  std::shared_ptr<detail::oneshot_state<T>> state_;
};

/// The receiving half: `co_await std::move(rx)` gives the value.
///
/// Move-only. It is used up by the await that gives the value (or throws
/// channel_closed), and by a try_recv that gives the value. Destroying it
/// first closes the channel: a later send() gives false, and a value
/// already sent but not received is destroyed with it.
///
/// Thread safety: one receiver is used by one thread at a time; the sender
/// may be on any other thread meanwhile.
///
/// Example:
///     auto [tx, rx] = weft::oneshot::channel<std::string>();
///     auto h = weft::spawn_blocking([tx = std::move(tx)]() mutable { tx.send(load()); });
///     std::string text = co_await std::move(rx);
template <std::move_constructible T>
class receiver {
public:
  /// Moves the receiver; `other` is left moved-from (as if used up).
  receiver(receiver&& other) noexcept = default;
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;
  /// Takes `other`'s channel; the receiver this one was is destroyed, which
  /// closes its channel.
  receiver& operator=(receiver&& other) noexcept {
    receiver(std::move(other)).swap(*this);
    return *this;
  }
  ~receiver();

  /// Waits for the value; `co_await std::move(rx)` gives it and uses the
  /// receiver up.
  ///
  /// Resumes on: at once, on the awaiting thread, if the value (or the
  /// sender's end) is already there; otherwise a worker of the runtime,
  /// woken by send() or by the sender's destruction (never on the sending
  /// thread, even if that is a worker).
  /// Cancellation: if the awaiting frame is destroyed (abort, timeout), the
  /// wait is withdrawn and a value already sent stays in the channel: the
  /// receiver, if it still exists, can be awaited again.
  /// Errors: weft::channel_closed if the sender was destroyed without
  /// sending; std::logic_error if the receiver was already used up, or
  /// awaited outside a weft task.
  [[nodiscard]] auto operator co_await() && noexcept { return awaiter(*this); }

  /// The value if it has been sent, without waiting.
  [[nodiscard]] std::expected<T, try_recv_error> try_recv();

  /// Exchanges the channels of the two receivers.
  void swap(receiver& other) noexcept { state_.swap(other.state_); }

private:
  friend std::pair<sender<T>, receiver<T>> channel<T>();
  explicit receiver(std::shared_ptr<detail::oneshot_state<T>> state) noexcept : state_(std::move(state)) {}

  // Registers the receiver's waker; the value itself stays in the state.
  struct awaiter {
    explicit awaiter(receiver& rx) noexcept : rx_(rx) {}
    awaiter(const awaiter&) = delete;
    awaiter& operator=(const awaiter&) = delete;
    ~awaiter() {
      if (!is_pending_) return;
      detail::waker dropped;   // destroyed after the mutex is released
      std::lock_guard lock(rx_.state_->mutex_);
      dropped = std::move(rx_.state_->rx_waker_);
    }
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> resume_at) {
      detail::require_task();
      if (!rx_.state_) throw std::logic_error("weft: awaiting a used or moved-from oneshot::receiver");
      std::lock_guard lock(rx_.state_->mutex_);
      if (rx_.state_->value_ || !rx_.state_->has_sender_) return false;
      rx_.state_->rx_waker_ = detail::suspend_current(resume_at);
      is_pending_ = true;
      return true;
    }
    T await_resume() {
      is_pending_ = false;
      return rx_.take();
    }

    receiver& rx_;
    bool is_pending_ = false;
  };

  /// Moves the value out and uses the receiver up; channel_closed if the
  /// sender went away unsent.
  T take();

  std::shared_ptr<detail::oneshot_state<T>> state_;
};

// ---------------------------------------------------------------------------

template <std::move_constructible T>
std::pair<sender<T>, receiver<T>> channel() {
  auto state = std::make_shared<detail::oneshot_state<T>>();
  return {sender<T>(state), receiver<T>(std::move(state))};
}

template <std::move_constructible T>
receiver<T>::~receiver() {
  if (!state_) return;
  std::optional<T> dropped;   // an unreceived value dies after the mutex is released
  std::lock_guard lock(state_->mutex_);
  state_->has_receiver_ = false;
  dropped.swap(state_->value_);
}

template <std::move_constructible T>
T receiver<T>::take() {
  std::optional<T> value;
  {
    std::lock_guard lock(state_->mutex_);
    value.swap(state_->value_);
  }
  state_.reset();   // used up: the sender now sees the channel closed
  if (!value) throw channel_closed();
  return std::move(*value);
}

template <std::move_constructible T>
std::expected<T, try_recv_error> receiver<T>::try_recv() {
  if (!state_) return std::unexpected(try_recv_error::closed);
  {
    std::lock_guard lock(state_->mutex_);
    if (!state_->value_) return std::unexpected(state_->has_sender_ ? try_recv_error::empty : try_recv_error::closed);
  }
  return take();   // only this receiver removes the value, so it is still there
}

}  // namespace weft::oneshot

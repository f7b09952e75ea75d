// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::broadcast`: multi-producer, multi-consumer channels in which every
/// receiver sees every value, and a receiver that falls behind is told how
/// many values it missed (Tokio's broadcast).

#include <weft/detail/broadcast_state.hpp>

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

namespace weft::broadcast {

template <std::copy_constructible T>
class sender;
template <std::copy_constructible T>
class receiver;

/// Why recv() or try_recv() gave no value.
class recv_error {
public:
  /// Every sender is gone and this receiver has read everything.
  static recv_error closed() noexcept { return recv_error(kind::closed, 0); }
  /// The receiver fell behind: `n` values were overwritten before it read
  /// them. Its next recv gives the oldest value still held.
  static recv_error lagged(std::uint64_t n) noexcept { return recv_error(kind::lagged, n); }
  /// (try_recv only) nothing to read now; senders still exist.
  static recv_error empty() noexcept { return recv_error(kind::empty, 0); }

  /// True for closed().
  bool is_closed() const noexcept { return kind_ == kind::closed; }
  /// True for lagged().
  bool is_lagged() const noexcept { return kind_ == kind::lagged; }
  /// True for empty().
  bool is_empty() const noexcept { return kind_ == kind::empty; }
  /// How many values were missed (lagged only; 0 otherwise).
  std::uint64_t num_skipped() const noexcept { return num_skipped_; }

  /// Equal if of the same kind with the same num_skipped().
  friend bool operator==(const recv_error&, const recv_error&) noexcept = default;

private:
  enum class kind : std::uint8_t { closed, lagged, empty };
  recv_error(kind k, std::uint64_t n) noexcept : kind_(k), num_skipped_(n) {}
  kind kind_;
  std::uint64_t num_skipped_;
};

/// Creates a broadcast channel that keeps the last `capacity` values for
/// receivers that have not read them yet:
/// `auto [tx, rx] = weft::broadcast::channel<event>(16);`
///
/// Errors: std::invalid_argument if capacity is 0.
template <std::copy_constructible T>
[[nodiscard]] std::pair<sender<T>, receiver<T>> channel(std::size_t capacity);

/// A sending handle; copy it for more producers.
///
/// send() is a plain call, not an awaitable: it never waits (a slow receiver
/// lags instead of holding senders back), so it may be used from any thread.
/// Thread safety: distinct copies may be used on distinct threads at once.
template <std::copy_constructible T>
class sender {
public:
  /// Another sender on the same channel; the channel stays open while any exists.
  sender(const sender& other) noexcept : state_(other.state_) {
    if (state_) state_->add_sender();
  }
  /// Moves the sender; `other` is left moved-from.
  sender(sender&& other) noexcept = default;
  /// Makes this another sender on `other`'s channel; the sender this one was
  /// is dropped, as on destruction.
  sender& operator=(const sender& other) noexcept { return *this = sender(other); }
  /// Takes `other`'s channel; the sender this one was is dropped, as on destruction.
  sender& operator=(sender&& other) noexcept {
    sender taken(std::move(other));
    state_.swap(taken.state_);
    return *this;
  }
  ~sender() {
    if (state_) state_->drop_sender();
  }

  /// Stores `value` for every current receiver and wakes those waiting (they
  /// resume on a worker of their runtime, never inline here). Gives the
  /// number of receivers; 0 means none exists and the value was dropped.
  /// Once `capacity` newer values have been sent, the value is overwritten.
  /// Errors: what T's move constructor throws (then nothing is sent).
  std::size_t send(T value) { return checked().send(value); }

  /// A new receiver that sees the values sent from now on.
  [[nodiscard]] receiver<T> subscribe() {
    checked();
    return receiver<T>(state_);
  }

  /// Receivers that exist now (a snapshot).
  std::size_t num_receivers() const { return checked().num_receivers(); }
  // Every member but the destructor and assignment: std::logic_error on a
  // moved-from sender.

private:
  detail::broadcast_state<T>& checked() const {
    if (!state_) throw std::logic_error("weft: broadcast::sender used after it was moved from");
    return *state_;
  }
  friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t);
  explicit sender(std::shared_ptr<detail::broadcast_state<T>> state) noexcept : state_(std::move(state)) {}

  std::shared_ptr<detail::broadcast_state<T>> state_;
};

/// A receiving handle: reads every value sent after it was created, in
/// order, each as its own copy.
///
/// Move-only (resubscribe() makes another). Thread safety: one receiver is
/// used by one thread at a time. It must outlive the recv operations it
/// starts.
///
/// Example:
///     for (;;) {
///       auto ev = co_await rx.recv();
///       if (ev) handle(*ev);
///       else if (ev.error().is_lagged()) log("missed", ev.error().num_skipped());
///       else break;   // closed
///     }
template <std::copy_constructible T>
class receiver {
public:
  class recv_op;

  /// Moves the receiver; `other` is left moved-from.
  receiver(receiver&& other) noexcept = default;
  /// Takes `other`'s channel and place in it; the receiver this one was is
  /// dropped, as on destruction.
  receiver& operator=(receiver&& other) noexcept {
    receiver taken(std::move(other));
    state_.swap(taken.state_);
    std::swap(next_, taken.next_);
    return *this;
  }
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;
  ~receiver() {
    if (state_) state_->drop_receiver();
  }

  /// Waits for the next value; `co_await rx.recv()` gives it, or
  /// recv_error::lagged(n) if it fell more than `capacity` values behind,
  /// or recv_error::closed() once every sender is gone and it has read all.
  ///
  /// Resumes on: at once, on the awaiting thread, if a value (or an error)
  /// is there; otherwise a worker of the runtime, woken by the send (never
  /// inline inside send).
  /// Cancellation: if the awaiting frame is destroyed (abort, timeout), no
  /// value is consumed: the next recv gives the same one (unless it has been
  /// overwritten meanwhile, which is then reported as lagged).
  /// Errors: std::logic_error if awaited outside a weft task; what T's copy
  /// constructor throws (then the value stays unread).
  [[nodiscard]] recv_op recv() {
    checked();
    return recv_op(*this);
  }

  /// The next value if one is there, without waiting (recv_error::empty if not).
  [[nodiscard]] std::expected<T, recv_error> try_recv() {
    checked();
    return take();
  }

  /// A new receiver that sees the values sent from now on.
  [[nodiscard]] receiver resubscribe() const {
    checked();
    return receiver(state_);
  }

  /// Values sent that this receiver has not read yet (at most capacity).
  std::size_t size() const { return checked().num_unread(next_); }
  // Every member but the destructor and assignment: std::logic_error on a
  // moved-from receiver.

private:
  detail::broadcast_state<T>& checked() const {
    if (!state_) throw std::logic_error("weft: broadcast::receiver used after it was moved from");
    return *state_;
  }
  friend class sender<T>;
  friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t);
  explicit receiver(std::shared_ptr<detail::broadcast_state<T>> state) noexcept
      : state_(std::move(state)), next_(state_->add_receiver()) {}
  /// The first receiver, counted by the state's constructor.
  receiver(std::shared_ptr<detail::broadcast_state<T>> state, std::uint64_t next) noexcept
      : state_(std::move(state)), next_(next) {}

  std::expected<T, recv_error> take() {
    std::optional<T> value;
    std::uint64_t missed = 0;
    switch (state_->take(next_, value, missed)) {
    case detail::broadcast_take::value: return std::move(*value);
    case detail::broadcast_take::lagged: return std::unexpected(recv_error::lagged(missed));
    case detail::broadcast_take::empty: return std::unexpected(recv_error::empty());
    case detail::broadcast_take::closed: break;
    }
    return std::unexpected(recv_error::closed());
  }

  std::shared_ptr<detail::broadcast_state<T>> state_;
  std::uint64_t next_;   // number of the next value this receiver reads
};

/// What receiver::recv returns: await it (once). Movable until awaited, so
/// it can be handed to weft::timeout.
template <std::copy_constructible T>
class [[nodiscard]] receiver<T>::recv_op {
public:
  /// Waits for the next value; see receiver::recv().
  auto operator co_await() && noexcept { return awaiter(*rx_); }

private:
  friend class receiver;
  explicit recv_op(receiver& rx) noexcept : rx_(&rx) {}

  // Holds the waiter node, so it stays where the coroutine put it.
  struct awaiter {
    explicit awaiter(receiver& rx) noexcept : rx_(rx) {}
    awaiter(const awaiter&) = delete;
    awaiter& operator=(const awaiter&) = delete;
    ~awaiter() {
      if (is_pending_) rx_.state_->cancel(node_);
    }
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> resume_at) {
      detail::require_task();
      is_pending_ = !rx_.state_->is_ready_or_wait(rx_.next_, node_, resume_at);
      return is_pending_;
    }
    /// Woken only by a send or by the last sender leaving: never empty here.
    std::expected<T, recv_error> await_resume() {
      is_pending_ = false;
      return rx_.take();
    }
    receiver& rx_;
    detail::waiter_node node_;
    bool is_pending_ = false;
  };

  receiver* rx_;
};

// ---------------------------------------------------------------------------

template <std::copy_constructible T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity) {
  if (capacity == 0) throw std::invalid_argument("weft: broadcast::channel capacity must be at least 1");
  auto state = std::make_shared<detail::broadcast_state<T>>(capacity);
  return {sender<T>(state), receiver<T>(std::move(state), 0)};
}

}  // namespace weft::broadcast

// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::mpsc`: multi-producer, single-consumer channels, bounded (senders
/// wait when it is full) and unbounded (Tokio's mpsc).

#include <weft/detail/mpsc_state.hpp>

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <expected>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

namespace weft::mpsc {

template <std::move_constructible T>
class sender;
template <std::move_constructible T>
class unbounded_sender;
template <std::move_constructible T>
class receiver;

/// Why try_send() did not send (the value was not moved from).
enum class try_send_error {
  full,     ///< every slot is taken (or earlier senders are waiting for one)
  closed,   ///< the receiver is gone or closed
};

/// Why try_recv() gave no message.
enum class try_recv_error {
  empty,          ///< nothing queued now; senders still exist
  disconnected,   ///< nothing queued, and every sender is gone (or the receiver closed)
};

/// What unbounded_sender::send() gives: true if the value was queued, false
/// if the receiver is gone or closed. It converts to bool, and it may also be
/// co_awaited (ready at once, giving the same bool), so that
/// `co_await tx.send(v)` reads the same for both kinds of channel.
class send_result {
public:
  /// What send() did: `sent` is true if the value was queued.
  constexpr explicit send_result(bool sent) noexcept : sent_(sent) {}
  /// True if the value was queued (implicit: it stands for the bool).
  constexpr operator bool() const noexcept { return sent_; }

  /// Always true: the send is over when send() returns.
  constexpr bool await_ready() const noexcept { return true; }
  /// Never called (await_ready is true); here for the awaiter interface.
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  /// True if the value was queued.
  constexpr bool await_resume() const noexcept { return sent_; }

private:
  bool sent_;
};

/// Creates a bounded channel holding at most `capacity` queued messages:
/// `auto [tx, rx] = weft::mpsc::channel<int>(64);`
///
/// Errors: std::invalid_argument if capacity is 0 or above
/// weft::semaphore::max_permits.
template <std::move_constructible T>
[[nodiscard]] std::pair<sender<T>, receiver<T>> channel(std::size_t capacity);

/// Creates an unbounded channel: sends never wait (memory is the limit).
template <std::move_constructible T>
[[nodiscard]] std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel();

/// A sending handle of a bounded channel; copy it for more producers.
///
/// The channel stays open while any copy exists. Thread safety: distinct
/// copies may be used on distinct threads at once; one copy by one thread
/// at a time. It must outlive the send operations it starts.
template <std::move_constructible T>
class sender {
public:
  class send_op;

  /// Another sender on the same channel.
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

  /// Queues `value`, waiting for a free slot if the channel is full;
  /// `co_await tx.send(v)` gives true once queued, false if the receiver
  /// is gone or closed (then `value` is dropped).
  ///
  /// Resumes on: at once, on the awaiting thread, if a slot is free and no
  /// sender waits; otherwise a worker of the runtime, woken by the recv that
  /// freed a slot for it (slots go to waiting senders in FIFO order).
  /// Cancellation: if the awaiting frame is destroyed (abort, timeout), the
  /// value is not sent and is destroyed with the operation; a slot already
  /// granted to it passes on to the next waiting sender. Nothing leaks.
  /// Errors: std::logic_error if awaited outside a weft task; what T's move
  /// constructor or the queue's allocation throws (then nothing is sent).
  [[nodiscard]] send_op send(T value) { return send_op(checked(), std::move(value)); }

  /// Queues `value` only if a slot is free now; moves from it only on success.
  [[nodiscard]] std::expected<void, try_send_error> try_send(T&& value) {
    if (!checked().slots().try_acquire(1))
      return std::unexpected(state_->is_closed() ? try_send_error::closed : try_send_error::full);
    if (!state_->push(std::move(value))) return std::unexpected(try_send_error::closed);
    return {};
  }
  /// Queues a copy of `value` only if a slot is free now.
  [[nodiscard]] std::expected<void, try_send_error> try_send(const T& value) {
    T copy(value);
    return try_send(std::move(copy));
  }

  /// Free slots now (a snapshot); max_capacity() when the queue is empty.
  std::size_t capacity() const { return checked().slots().available(); }
  /// The capacity given to channel().
  std::size_t max_capacity() const { return checked().capacity(); }
  /// True once the receiver is gone or closed.
  bool is_closed() const { return checked().is_closed(); }
  // Every member but the destructor and assignment: std::logic_error on a
  // moved-from sender.

private:
  friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t);
  detail::mpsc_state<T>& checked() const {
    if (!state_) throw std::logic_error("weft: mpsc::sender used after it was moved from");
    return *state_;
  }
  explicit sender(std::shared_ptr<detail::mpsc_state<T>> state) noexcept : state_(std::move(state)) {}

  std::shared_ptr<detail::mpsc_state<T>> state_;
};

/// What sender::send returns: await it (once). Movable until awaited, so it
/// can be handed to weft::timeout.
template <std::move_constructible T>
class [[nodiscard]] sender<T>::send_op {
public:
  /// Queues the value, waiting for a slot; see sender::send().
  auto operator co_await() && { return awaiter(*state_, std::move(value_)); }

private:
  friend class sender;
  send_op(detail::mpsc_state<T>& state, T value) : state_(&state), value_(std::move(value)) {}

  // Holds the slot request (a waiter node) and the value, in the awaiting frame.
  struct awaiter {
    awaiter(detail::mpsc_state<T>& state, T&& value)
        : state_(state), slot_(state.slots(), 1), value_(std::move(value)) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> resume_at) { return slot_.await_suspend(resume_at); }
    bool await_resume() {
      if (!slot_.await_resume()) return false;   // closed while waiting: dropped
      return state_.push(std::move(value_));     // we own a slot now
    }
    detail::mpsc_state<T>& state_;
    detail::acquire_awaiter slot_;
    T value_;
  };

  detail::mpsc_state<T>* state_;
  T value_;
};

/// A sending handle of an unbounded channel; copy it for more producers.
///
/// send() is a plain call: it never waits, so it may be used from any
/// thread, inside or outside the runtime (a blocking closure, a
/// std::thread); in a task, `co_await tx.send(v)` works too (send_result).
/// Thread safety: as sender.
template <std::move_constructible T>
class unbounded_sender {
public:
  /// Another sender on the same channel.
  unbounded_sender(const unbounded_sender& other) noexcept : state_(other.state_) {
    if (state_) state_->add_sender();
  }
  /// Moves the sender; `other` is left moved-from.
  unbounded_sender(unbounded_sender&& other) noexcept = default;
  /// Makes this another sender on `other`'s channel; the sender this one was
  /// is dropped, as on destruction.
  unbounded_sender& operator=(const unbounded_sender& other) noexcept { return *this = unbounded_sender(other); }
  /// Takes `other`'s channel; the sender this one was is dropped, as on destruction.
  unbounded_sender& operator=(unbounded_sender&& other) noexcept {
    unbounded_sender taken(std::move(other));
    state_.swap(taken.state_);
    return *this;
  }
  ~unbounded_sender() {
    if (state_) state_->drop_sender();
  }

  /// Queues `value` and wakes the receiver (which resumes on a worker of
  /// its runtime, never inline here). False if the receiver is gone or
  /// closed: then `value` is dropped. The value is queued by the call
  /// itself; awaiting the result only reads it.
  /// Errors: what T's move constructor or the queue's allocation throws.
  send_result send(T value) { return send_result(checked().push(std::move(value))); }

  /// True once the receiver is gone or closed.
  bool is_closed() const { return checked().is_closed(); }
  // Every member but the destructor and assignment: std::logic_error on a
  // moved-from sender.

private:
  detail::mpsc_state<T>& checked() const {
    if (!state_) throw std::logic_error("weft: mpsc::unbounded_sender used after it was moved from");
    return *state_;
  }
  friend std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel<T>();
  explicit unbounded_sender(std::shared_ptr<detail::mpsc_state<T>> state) noexcept : state_(std::move(state)) {}

  std::shared_ptr<detail::mpsc_state<T>> state_;
};

/// The receiving half of a bounded or unbounded channel.
///
/// Move-only. Destroying it closes the channel (later sends give false) and
/// drops the messages still queued. Thread safety: one receiver is used by
/// one thread at a time. It must outlive the recv operations it starts.
///
/// Example:
///     auto [tx, rx] = weft::mpsc::channel<job>(128);
///     auto worker = weft::spawn(run_jobs(std::move(rx)));
///     co_await tx.send(job{...});
///     // in run_jobs:  while (auto j = co_await rx.recv()) handle(*j);
template <std::move_constructible T>
class receiver {
public:
  class recv_op;

  /// Moves the receiver; `other` is left moved-from.
  receiver(receiver&& other) noexcept = default;
  /// Takes `other`'s channel; the channel this one had is closed and drained, as
  /// on destruction.
  receiver& operator=(receiver&& other) noexcept {
    receiver taken(std::move(other));
    state_.swap(taken.state_);
    return *this;
  }
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;
  ~receiver() {
    if (state_) state_->close_and_drain();
  }

  /// Waits for the next message; `co_await rx.recv()` gives it, or nullopt
  /// once every sender is gone (or close() was called) and the queue is
  /// drained. Messages from one sender arrive in the order it sent them.
  ///
  /// Resumes on: at once, on the awaiting thread, if a message is queued;
  /// otherwise a worker of the runtime, woken by the send (never inline
  /// inside send, and never on a foreign sending thread).
  /// Cancellation: if the awaiting frame is destroyed (abort, timeout), no
  /// message is consumed: the one it was woken for stays first in the queue.
  /// Errors: std::logic_error if awaited outside a weft task.
  [[nodiscard]] recv_op recv() { return recv_op(checked()); }

  /// The next message if one is queued, without waiting.
  [[nodiscard]] std::expected<T, try_recv_error> try_recv() {
    bool is_done = false;
    std::optional<T> value = checked().pop(is_done);
    if (value) return std::move(*value);
    return std::unexpected(is_done ? try_recv_error::disconnected : try_recv_error::empty);
  }

  /// Stops the channel: sends give false from now on (waiting senders wake
  /// with false); messages already queued can still be received.
  void close() { checked().close(); }
  // Every member but the destructor and assignment: std::logic_error on a
  // moved-from receiver.

private:
  detail::mpsc_state<T>& checked() const {
    if (!state_) throw std::logic_error("weft: mpsc::receiver used after it was moved from");
    return *state_;
  }
  friend std::pair<sender<T>, receiver<T>> channel<T>(std::size_t);
  friend std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel<T>();
  explicit receiver(std::shared_ptr<detail::mpsc_state<T>> state) noexcept : state_(std::move(state)) {}

  std::shared_ptr<detail::mpsc_state<T>> state_;
};

/// What receiver::recv returns: await it (once). Movable until awaited, so
/// it can be handed to weft::timeout.
template <std::move_constructible T>
class [[nodiscard]] receiver<T>::recv_op {
public:
  /// Waits for the next message; see receiver::recv().
  auto operator co_await() && noexcept { return awaiter(*state_); }

private:
  friend class receiver;
  explicit recv_op(detail::mpsc_state<T>& state) noexcept : state_(&state) {}

  struct awaiter {
    explicit awaiter(detail::mpsc_state<T>& state) noexcept : state_(state) {}
    awaiter(const awaiter&) = delete;
    awaiter& operator=(const awaiter&) = delete;
    ~awaiter() {
      if (is_pending_) state_.cancel_wait();
    }
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> resume_at) {
      detail::require_task();
      is_pending_ = !state_.is_ready_or_wait(resume_at);
      return is_pending_;
    }
    std::optional<T> await_resume() {
      is_pending_ = false;
      bool is_done = false;
      return state_.pop(is_done);   // the only receiver: what woke us is still there
    }
    detail::mpsc_state<T>& state_;
    bool is_pending_ = false;
  };

  detail::mpsc_state<T>* state_;
};

// ---------------------------------------------------------------------------

template <std::move_constructible T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity) {
  if (capacity == 0) throw std::invalid_argument("weft: mpsc::channel capacity must be at least 1");
  if (capacity > detail::semaphore_core::max_permits)
    throw std::invalid_argument("weft: mpsc::channel capacity is too large");
  auto state = std::make_shared<detail::mpsc_state<T>>(capacity);
  return {sender<T>(state), receiver<T>(std::move(state))};
}

template <std::move_constructible T>
std::pair<unbounded_sender<T>, receiver<T>> unbounded_channel() {
  auto state = std::make_shared<detail::mpsc_state<T>>(0);
  return {unbounded_sender<T>(state), receiver<T>(std::move(state))};
}

}  // namespace weft::mpsc

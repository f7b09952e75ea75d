// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The intrusive FIFO of suspended waiters shared by every sync primitive and
/// channel, and the batch in which their wakers are woken. Internal; not API.
///
/// Protocol (Tokio's "hand it over, then wake"):
/// * A node lives in the awaiter, i.e. in the awaiting coroutine's frame. It is
///   linked, unlinked and completed only under the owning primitive's mutex.
/// * Whoever completes a node (unlock, send, notify...) does so under that
///   mutex: it unlinks the node, hands it what it waited for (status_ =
///   granted, plus the primitive's own fields), moves the waker out into a
///   wake_batch and — after releasing the mutex — wakes. It never touches the
///   node again, so the node's frame may be destroyed as soon as the mutex is
///   released.
/// * A resumed waiter therefore already owns its lock, permits or
///   notification: it never retries.
/// * If the frame is destroyed while suspended (abort, timeout), the awaiter's
///   destructor takes the mutex: a node still linked unlinks itself; a node
///   already granted passes what it was given on to the next waiter (or back).

#include <weft/detail/task_header.hpp>

#include <array>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace weft::detail {

class waiter_list;

/// How far a waiter got; written under the owning primitive's mutex.
enum class waiter_status : std::uint8_t {
  idle,       ///< not queued (not yet suspended, or done)
  waiting,    ///< linked into a waiter_list
  granted,    ///< handed a resource (lock, permits, a notify_one) it must pass on if cancelled
  notified,   ///< told to look again (a message or value is there); nothing to pass on
  closed,     ///< the primitive closed while it waited
};

/// One suspended operation. Not copyable or movable: it is linked by address.
struct waiter_node {
  waiter_node() noexcept = default;
  waiter_node(const waiter_node&) = delete;
  waiter_node& operator=(const waiter_node&) = delete;
  ~waiter_node() = default;

  bool is_linked() const noexcept { return list_ != nullptr; }
  /// Removes the node from whichever list holds it (the primitive's own, or a
  /// waking thread's private one). Call under the owning mutex.
  inline void unlink() noexcept;

  waker waker_;
  waiter_status status_ = waiter_status::idle;

private:
  friend class waiter_list;
  waiter_node* prev_ = nullptr;
  waiter_node* next_ = nullptr;
  waiter_list* list_ = nullptr;
};

/// A FIFO of waiter_nodes. Every call must hold the owning primitive's mutex.
class waiter_list {
public:
  waiter_list() noexcept = default;
  waiter_list(const waiter_list&) = delete;
  waiter_list& operator=(const waiter_list&) = delete;
  ~waiter_list() = default;

  bool empty() const noexcept { return head_ == nullptr; }
  waiter_node* front() const noexcept { return head_; }

  void push_back(waiter_node& node) noexcept {
    node.list_ = this;
    node.prev_ = tail_;
    node.next_ = nullptr;
    (tail_ ? tail_->next_ : head_) = &node;
    tail_ = &node;
    node.status_ = waiter_status::waiting;
  }

  waiter_node* pop_front() noexcept {
    waiter_node* node = head_;
    if (node) remove(*node);
    return node;
  }

  /// Precondition: `node` is in this list.
  void remove(waiter_node& node) noexcept {
    (node.prev_ ? node.prev_->next_ : head_) = node.next_;
    (node.next_ ? node.next_->prev_ : tail_) = node.prev_;
    node.prev_ = node.next_ = nullptr;
    node.list_ = nullptr;
  }

  /// Moves every node to the back of `other`, in order.
  void splice_to(waiter_list& other) noexcept {
    while (waiter_node* node = pop_front()) {
      const waiter_status status = node->status_;
      other.push_back(*node);
      node->status_ = status;
    }
  }

private:
  waiter_node* head_ = nullptr;
  waiter_node* tail_ = nullptr;
};

inline void waiter_node::unlink() noexcept {
  if (list_) list_->remove(*this);
}

/// Wakers collected under a mutex and woken after it is released, so that no
/// task is scheduled while a primitive's lock is held. Bounded, so that waking
/// many waiters needs no allocation (Tokio's WakeList).
class wake_batch {
public:
  static constexpr std::size_t capacity = 32;

  bool is_full() const noexcept { return size_ == capacity; }
  void add(waker w) noexcept { wakers_[size_++] = std::move(w); }

  /// Wakes and drops every collected waker. Call without the mutex held.
  void wake_all() noexcept {
    for (std::size_t i = 0; i < size_; ++i) std::exchange(wakers_[i], waker{}).wake();
    size_ = 0;
  }

private:
  std::array<waker, capacity> wakers_{};
  std::size_t size_ = 0;
};

/// Completes every node now in `list` with `status` and wakes them, a batch
/// at a time with `lock` released in between; returns with `lock` released.
/// The nodes first move to a private list, still guarded by the same mutex,
/// so a node that arrives meanwhile is not woken and a node cancelled
/// meanwhile can still unlink itself.
template <class Lock>
void wake_all(waiter_list& list, waiter_status status, Lock& lock) noexcept {
  waiter_list taken;
  list.splice_to(taken);
  for (;;) {
    wake_batch batch;
    while (!batch.is_full()) {
      waiter_node* node = taken.pop_front();
      if (!node) break;
      node->status_ = status;
      batch.add(std::move(node->waker_));
    }
    const bool has_more = !taken.empty();
    lock.unlock();
    batch.wake_all();
    if (!has_more) return;
    lock.lock();
  }
}

/// Throws std::logic_error unless called inside a weft task. Awaiters call
/// it before taking anything, so misuse fails the same way whether or not
/// the operation would have had to wait.
inline void require_task() {
  if (!task_header::current())
    throw std::logic_error("weft: sync primitives and channels must be awaited inside a weft task");
}

/// The waker for suspending the task being polled at `resume_at`.
/// Preconditions: require_task() passed on this thread.
inline waker suspend_current(std::coroutine_handle<> resume_at) noexcept {
  return task_header::current()->prepare_suspend(resume_at);
}

}  // namespace weft::detail

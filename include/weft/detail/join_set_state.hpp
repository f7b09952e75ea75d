// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// What join_set<T> shares with its tasks: the ready list their results are
/// pushed onto, the waker of a pending join_next, and the wrapper coroutines
/// that report each task's end. Internal; not API.
///
/// Each member task is wrapped in a coroutine whose parameter carries a
/// reporter. The reporter owns a result node, allocated at spawn so that
/// reporting never allocates: the wrapper fills it with the value or the
/// exception and pushes it; if the wrapper frame is destroyed first (abort,
/// runtime shutdown) the reporter's destructor pushes it empty, meaning
/// cancelled. So every member reports exactly once, however it ends.
///
/// The shared state is reference-counted (std::shared_ptr): the set holds
/// one reference and every reporter one, so tasks that finish after the set
/// is gone push into a state that is still alive, and the last one frees it.

#include <weft/detail/task_header.hpp>
#include <weft/join_error.hpp>
#include <weft/join_handle.hpp>
#include <weft/task.hpp>

#include <coroutine>
#include <cstdint>
#include <exception>
#include <expected>
#include <memory>
#include <mutex>
#include <source_location>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace weft::detail {

/// How one member ended, and which slot of its set it occupies. join_next
/// turns it into std::expected<T, join_error> (the set knows the id and
/// spawn site). outcome_ index 0: cancelled, 1: value, 2: exception.
template <class T>
struct join_set_node {
  join_set_node* next_ = nullptr;
  std::uint32_t slot_ = 0;
  std::variant<std::monostate, stored_t<T>, std::exception_ptr> outcome_;
};

/// The ready list (a FIFO, so join_next gives completion order) and the
/// single join_next waiter.
template <class T>
class join_set_shared {
public:
  join_set_shared() = default;
  join_set_shared(const join_set_shared&) = delete;
  join_set_shared& operator=(const join_set_shared&) = delete;
  ~join_set_shared() {
    while (head_) delete std::exchange(head_, head_->next_);
  }

  /// Appends a finished member and wakes the waiter. Any thread.
  void push(join_set_node<T>* node) noexcept {
    waker w;
    {
      std::lock_guard lock(mutex_);
      (tail_ ? tail_->next_ : head_) = node;
      tail_ = node;
      w = take_waiter();
    }
    w.wake();   // outside the lock: waking may run scheduler code
  }

  /// Removes and returns the oldest finished member, or null.
  join_set_node<T>* try_pop() noexcept {
    std::lock_guard lock(mutex_);
    join_set_node<T>* node = head_;
    if (node) {
      head_ = node->next_;
      if (!head_) tail_ = nullptr;
    }
    return node;
  }

  /// Parks the polling task as the waiter unless something is ready; the
  /// check and the registration share one critical section, so a push
  /// cannot slip between them. False: ready, do not suspend.
  bool park(std::coroutine_handle<> resume_at, const void* owner) {
    task_header* self = task_header::current();
    if (!self) throw std::logic_error("weft: join_set::join_next must be awaited inside a weft task");
    std::lock_guard lock(mutex_);
    if (head_) return false;
    waiter_ = self->prepare_suspend(resume_at);
    waiter_owner_ = owner;
    return true;
  }

  /// Drops the waiter registered by `owner`, if it is still registered (its
  /// frame is being destroyed: cancelled by abort or timeout).
  void unpark(const void* owner) noexcept {
    waker stale;
    {
      std::lock_guard lock(mutex_);
      if (waiter_owner_ == owner) stale = take_waiter();
    }
    // `stale` is released here, outside the lock: it may free a task.
  }

  /// Removes the node of `slot` if it was pushed (a spawn that failed
  /// half-way reported its wrapper as cancelled).
  void discard(std::uint32_t slot) noexcept {
    join_set_node<T>* found = nullptr;
    {
      std::lock_guard lock(mutex_);
      join_set_node<T>* prev = nullptr;
      for (join_set_node<T>* n = head_; n; prev = n, n = n->next_) {
        if (n->slot_ != slot) continue;
        (prev ? prev->next_ : head_) = n->next_;
        if (tail_ == n) tail_ = prev;
        found = n;
        break;
      }
    }
    delete found;
  }

private:
  waker take_waiter() noexcept {
    waiter_owner_ = nullptr;
    return std::exchange(waiter_, waker{});
  }

  std::mutex mutex_;   // guards head_, tail_, waiter_ and waiter_owner_
  join_set_node<T>* head_ = nullptr;
  join_set_node<T>* tail_ = nullptr;
  waker waiter_;
  const void* waiter_owner_ = nullptr;   // the awaiter that registered waiter_
};

/// What join_next suspends on: the next push. Its destructor deregisters,
/// so a join_next whose frame is destroyed (abort, timeout) leaves no waker
/// behind; it took nothing, so nothing is lost.
template <class T>
class join_set_wait {
public:
  explicit join_set_wait(join_set_shared<T>& shared) noexcept : shared_(shared) {}
  join_set_wait(const join_set_wait&) = delete;
  join_set_wait& operator=(const join_set_wait&) = delete;
  ~join_set_wait() { shared_.unpark(this); }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> self) { return shared_.park(self, this); }
  void await_resume() const noexcept {}

private:
  join_set_shared<T>& shared_;
};

/// Reports one member's end to its set, exactly once (see the file doc).
template <class T>
class join_set_reporter {
public:
  join_set_reporter(std::shared_ptr<join_set_shared<T>> shared, std::uint32_t slot)
      : shared_(std::move(shared)), node_(std::make_unique<join_set_node<T>>()) {
    node_->slot_ = slot;
  }
  join_set_reporter(const join_set_reporter&) = delete;
  join_set_reporter& operator=(const join_set_reporter&) = delete;
  join_set_reporter(join_set_reporter&&) noexcept = default;
  join_set_reporter& operator=(join_set_reporter&&) = delete;
  ~join_set_reporter() {
    if (node_) shared_->push(node_.release());   // never reported: cancelled
  }

  template <class... A>
  void value(A&&... v) {
    node_->outcome_.template emplace<1>(std::forward<A>(v)...);
    shared_->push(node_.release());
  }
  void panic(std::exception_ptr payload) noexcept {
    node_->outcome_.template emplace<2>(std::move(payload));
    shared_->push(node_.release());
  }

private:
  std::shared_ptr<join_set_shared<T>> shared_;
  std::unique_ptr<join_set_node<T>> node_;
};

/// The wrapper's one parameter. Members are destroyed in reverse order, so
/// an aborted task's frame (work_) is gone before the reporter says so: a
/// cancelled result means the task's locals have been destroyed.
template <class T>
struct join_set_job {
  join_set_reporter<T> reporter_;
  task<T> work_;
};

/// Runs a member task and reports how it ended.
template <class T>
task<void> run_join_set_member(join_set_job<T> job) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(job.work_);
      job.reporter_.value();
    } else {
      job.reporter_.value(co_await std::move(job.work_));
    }
  } catch (...) {
    job.reporter_.panic(std::current_exception());
  }
}

/// Watches a member blocking job (which has no coroutine frame to wrap) and
/// reports how it ended; a cancelled job is reported by the destructor.
template <class T, class R>
task<void> watch_join_set_member(join_set_reporter<T> reporter, join_handle<R> job) {
  std::expected<R, join_error> result = co_await job.join();
  if (result) {
    if constexpr (std::is_void_v<R>) reporter.value();
    else reporter.value(std::move(*result));
  } else if (result.error().is_panic()) {
    reporter.panic(result.error().panic_payload());
  }
}

/// A counted reference to a member's task header, kept by the set to abort
/// it and to name it in join_error.
class join_set_member {
public:
  join_set_member() noexcept = default;
  template <class R>
  explicit join_set_member(const join_handle<R>& h, std::source_location where) noexcept
      // const_cast: the handle exposes its header read-only; abort() is the
      // same call join_handle::abort() makes.
      : task_(access::state(h)), where_(where) {
    task_->add_ref();
  }
  join_set_member(join_set_member&& other) noexcept
      : task_(std::exchange(other.task_, nullptr)), where_(other.where_) {}
  join_set_member& operator=(join_set_member&& other) noexcept {
    join_set_member taken(std::move(other));
    std::swap(task_, taken.task_);
    std::swap(where_, taken.where_);
    return *this;
  }
  join_set_member(const join_set_member&) = delete;
  join_set_member& operator=(const join_set_member&) = delete;
  ~join_set_member() {
    if (task_) task_->release();
  }

  bool is_live() const noexcept { return task_ != nullptr; }
  void abort() const noexcept { task_->abort(); }
  task_id id() const noexcept { return task_->id(); }
  std::source_location where() const noexcept { return where_; }

private:
  task_header* task_ = nullptr;
  std::source_location where_;
};

}  // namespace weft::detail

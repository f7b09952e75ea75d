// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The operations of one when_all / when_any, polled inline by the task that
/// awaits it. Internal; not API.
///
/// Each operation runs in a coroutine frame of its own (a task<T> operand's
/// own frame, else a small wrapper) and has a task header of its own, an
/// op_child, so that its suspensions get wakers of their own. The scheduler
/// never sees an op_child: waking one sets its bit in the group's ready
/// mask and wakes the parent — the task that awaits the combinator — whose
/// poll then steps the ready operations, in argument order, on its own
/// thread. Hence:
/// * no spawn and no run-queue trip per operation, and one allocation for
///   the group and its headers together;
/// * operations never run concurrently with each other or with the parent,
///   so a loser that was woken but not yet stepped has consumed nothing (a
///   recv's message is still queued) and its frame can be destroyed —
///   weft's cancellation — as soon as the winner is known.

#include <weft/detail/task_header.hpp>
#include <weft/task.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <source_location>
#include <stdexcept>
#include <utility>

namespace weft::detail {

// final, its destructor private (destroy() ends it): clang-tidy 19 reads this
// declaration without the definition's `final`.
class op_group;   // NOLINT(cppcoreguidelines-virtual-class-destructor)

/// The header of one operation. Memory: a slot of its group's allocation;
/// freed with the group once every reference (the group's, and any waker
/// still held somewhere) is gone.
class op_child final : public task_header {
public:
  /// The last reference is gone: destroy in place, the group frees memory.
  static void operator delete(op_child* self, std::destroying_delete_t) noexcept;

  task_header* parent() const noexcept override;
  void poll() noexcept override {}    // never scheduled: the group steps it
  void abort() noexcept override {}   // cancelled by its combinator only

  /// Runs the operation until it suspends or finishes; true once finished.
  /// Called by the parent's poll, with the operation ready.
  bool step() noexcept {
    this->begin_poll();
    {
      poll_scope scope(this);
      if (auto at = std::exchange(this->resume_at_, {})) at.resume();
    }
    if (frame_.done()) {
      this->finish();   // later wakes of this operation do nothing
      return true;
    }
    this->end_poll();
    return false;
  }

  /// Destroys the frame if it has not finished (cancellation) and stops
  /// any later wake from reaching the group.
  void release_frame() noexcept {
    if (!frame_) return;
    std::exchange(frame_, {}).destroy();
    if (!is_complete()) this->finish();
  }

  std::coroutine_handle<> frame() const noexcept { return frame_; }
  /// Gives the child its operation's frame, to be started by the first step.
  void set_frame(std::coroutine_handle<> frame) noexcept {
    frame_ = frame;
    this->resume_at_ = frame;
  }

private:
  friend class op_group;
  op_child(op_group& group, std::source_location where) noexcept;
  ~op_child() override = default;

  std::coroutine_handle<> frame_;
  op_group* group_;
};

/// The shared state of one combinator: ready mask, parent waker, children.
/// Referenced by the combinator (op_set) and by each child header.
class op_group final : public schedule_target {
public:
  static constexpr std::size_t max_ops = 64;

  /// Allocates the group with `n` children (each starting "ready"), for the
  /// task being polled. std::logic_error outside a weft task.
  static op_group* create(std::size_t n);

  op_child& child(std::size_t i) noexcept { return children()[i]; }
  std::size_t size() const noexcept { return size_; }

  /// Gives the operations woken since the last call (bit i = child i).
  std::uint64_t take_ready() noexcept {
    // acquire: pairs with schedule()'s fetch_or.
    return ready_.exchange(0, std::memory_order_acquire);
  }
  /// Stores the parent's waker for its coming suspension; true if an
  /// operation is ready already (the caller must not sleep on it).
  bool arm(waker parent) noexcept {
    waker replaced;
    {
      std::lock_guard lock(mutex_);
      replaced = std::exchange(parent_waker_, std::move(parent));
    }
    // acquire: pairs with schedule()'s fetch_or; the mutex orders the two
    // sides, so either schedule() sees the new waker or we see its bit.
    return ready_.load(std::memory_order_acquire) != 0;
  }
  task_header* parent_task() const noexcept { return parent_task_; }

  // schedule_target: a child was woken (from any thread).
  void schedule(task_header& task) noexcept override {
    const auto index = static_cast<std::size_t>(static_cast<op_child*>(&task) - children());
    // release: the waking thread's writes are seen by the parent's step.
    ready_.fetch_or(std::uint64_t{1} << index, std::memory_order_release);
    waker parent;
    {
      std::lock_guard lock(mutex_);
      parent = parent_waker_;
    }
    parent.wake();
  }
  void on_complete(task_header&) noexcept override {}

  /// The combinator is done with the group: every frame must already be
  /// released. Drops the parent's waker and the combinator's references.
  void close() noexcept;

  void release() noexcept {
    // acq_rel: the last owner sees every other owner's writes.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }

private:
  friend class op_child;
  op_group(std::size_t n, task_header* parent) noexcept
      : size_(n),
        refs_(n + 1),
        parent_task_(parent),
        ready_(n == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1) {}
  ~op_group() = default;
  static std::size_t children_offset() noexcept {
    return (sizeof(op_group) + alignof(op_child) - 1) / alignof(op_child) * alignof(op_child);
  }
  op_child* children() noexcept {
    return std::launder(reinterpret_cast<op_child*>(reinterpret_cast<unsigned char*>(this) + children_offset()));
  }
  void destroy() noexcept;

  std::size_t size_;
  std::atomic<std::size_t> refs_;   // the combinator's, plus one per live child header
  task_header* parent_task_;
  std::atomic<std::uint64_t> ready_;
  std::mutex mutex_;   // guards parent_waker_
  waker parent_waker_;
};

inline op_child::op_child(op_group& group, std::source_location where) noexcept
    : task_header(&group, where, task_header::scheduled), group_(&group) {}

inline task_header* op_child::parent() const noexcept { return group_->parent_task_; }

inline void op_child::operator delete(op_child* self, std::destroying_delete_t) noexcept {
  op_group* group = self->group_;
  self->~op_child();
  group->release();
}

inline op_group* op_group::create(std::size_t n) {
  task_header* parent = task_header::current();
  if (!parent) throw std::logic_error("weft: when_all and when_any must be awaited inside a weft task");
  void* memory = allocate_task_memory(children_offset() + n * sizeof(op_child));
  auto* group = ::new (memory) op_group(n, parent);
  for (std::size_t i = 0; i < n; ++i)
    ::new (static_cast<void*>(group->children() + i)) op_child(*group, std::source_location::current());
  return group;
}

inline void op_group::close() noexcept {
  waker dropped;
  {
    std::lock_guard lock(mutex_);
    dropped = std::move(parent_waker_);
  }
  for (std::size_t i = 0; i < size_; ++i) child(i).release();   // the group's reference on each
  release();
}

inline void op_group::destroy() noexcept {
  const std::size_t bytes = children_offset() + size_ * sizeof(op_child);
  this->~op_group();
  free_task_memory(this, bytes);
}

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
// Frame borrows (see include/weft/detail/frame_borrow.hpp).
//
// The count lives in each header's state word, so that the decision between
// "shutdown destroys the frame now" and "the last borrow destroys it" is one
// atomic word per root: defer_shutdown_slow() sets SHUTDOWN_DEFERRED only
// while the count is not zero, and end_borrow() sees the flag in the same
// read-modify-write that takes the count to zero. The registry (one mutex
// for the process) only finds the borrows to cancel; borrows are as rare as
// run_blocking calls in flight, so a list is enough.
#include <weft/detail/frame_borrow.hpp>

#include <mutex>
#include <vector>

namespace weft::detail {

struct borrow_registry {
  static borrow_registry& get() noexcept {
    static borrow_registry registry;
    return registry;
  }
  void link(frame_borrow& b) noexcept {
    std::lock_guard lock(mutex);
    b.prev_ = nullptr;
    b.next_ = head;
    if (head) head->prev_ = &b;
    head = &b;
  }
  void unlink(frame_borrow& b) noexcept {
    std::lock_guard lock(mutex);
    (b.prev_ ? b.prev_->next_ : head) = b.next_;
    if (b.next_) b.next_->prev_ = b.prev_;
  }
  /// The borrows whose chain of parents contains `task`, each with a reference.
  std::vector<frame_borrow*> under(const task_header& task) noexcept {
    std::vector<frame_borrow*> found;
    std::lock_guard lock(mutex);
    for (frame_borrow* b = head; b; b = b->next_) {
      // The chain is alive: a linked borrow holds a reference on each header.
      for (const task_header* h = b->task_; h; h = h->parent()) {
        if (h == &task) {
          b->add_borrow_ref();
          found.push_back(b);
          break;
        }
      }
    }
    return found;
  }

  std::mutex mutex;  // guards head and every linked borrow's prev_/next_
  frame_borrow* head = nullptr;
};

void task_header::begin_borrow() noexcept {
  add_ref();
  // relaxed: only the polling thread begins a borrow, and the shutdown that
  // reads the count runs on that thread or after it (scheduler shutdown
  // joins the workers first).
  state_.fetch_add(borrow_one, std::memory_order_relaxed);
}

bool task_header::end_borrow() noexcept {
  // acq_rel: pairs with defer_shutdown_slow's compare-exchange, so the
  // thread that finishes the shutdown sees what the deferring thread wrote.
  const std::uint64_t prev = state_.fetch_sub(borrow_one, std::memory_order_acq_rel);
  return (prev & borrow_mask) == borrow_one && (prev & shutdown_deferred) != 0;
}

bool task_header::defer_shutdown_slow() noexcept {
  std::uint64_t s = state_.load(std::memory_order_acquire);
  do {
    if ((s & borrow_mask) == 0) return false;   // the last borrow just ended
  } while (
      !state_.compare_exchange_weak(s, s | shutdown_deferred, std::memory_order_acq_rel, std::memory_order_acquire));
  cancel_borrows_under(*this);
  return true;
}

void frame_borrow::begin(task_header& task) noexcept {
  task_ = &task;
  for (task_header* h = &task; h; h = h->parent()) h->begin_borrow();
  borrow_registry::get().link(*this);
}

void frame_borrow::end() noexcept {
  borrow_registry::get().unlink(*this);
  task_header* root = task_;
  bool finish_root = false;
  for (task_header* h = task_; h; h = h->parent()) {
    root = h;
    const bool last = h->end_borrow();
    if (!h->parent()) finish_root = last;
  }
  if (finish_root) root->finish_deferred_shutdown();
  // Release innermost first; each header's parent() stays readable while
  // the header itself is referenced.
  for (task_header* h = task_; h;) {
    task_header* parent = h->parent();
    h->release();
    h = parent;
  }
}

void cancel_borrows_under(task_header& task) noexcept {
  for (frame_borrow* b : borrow_registry::get().under(task)) {
    b->cancel_borrow();
    b->release_borrow_ref();
  }
}

}  // namespace weft::detail

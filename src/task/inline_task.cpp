// SPDX-License-Identifier: MIT
// A task polled by its parent (include/weft/detail/inline_task.hpp).
//
// Handshake between a wake of the operation and the parent suspending:
// schedule() marks woken_, then takes the parent's waker under the lock;
// set_parent() stores the waker under the lock, then reads woken_. Either
// the waker is taken after it was stored (the parent is woken), or the
// mark was made before the store's lock (the parent sees it and does not
// suspend): no lost wake-up.
#include "util/cpu_relax.hpp"

#include <weft/detail/inline_task.hpp>

namespace weft::detail {

void inline_task_base::lock() noexcept {
  // acquire: pairs with the release in unlock() (parent_ as the holder left it).
  while (locked_.exchange(true, std::memory_order_acquire)) cpu_relax();
}

void inline_task_base::unlock() noexcept { locked_.store(false, std::memory_order_release); }

bool inline_task_base::set_parent(waker parent) noexcept {
  lock();
  parent_ = std::move(parent);
  unlock();
  return !woken_.load();
}

void inline_task_base::clear_parent() noexcept {
  waker old;
  lock();
  old = std::move(parent_);
  unlock();
}

void inline_task_base::schedule(task_header&) noexcept {
  woken_.store(true);
  waker parent;
  lock();
  parent = std::move(parent_);
  unlock();
  parent.wake();
}

}  // namespace weft::detail

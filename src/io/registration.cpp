// SPDX-License-Identifier: MIT
// Readiness of one descriptor: tickets, the waiter lists, and the hand-off
// of wakers from a waiting task to the reactor (see reactor.cpp).
#include "io/registration.hpp"

#include <stdexcept>
#include <utility>

namespace weft::detail {

void registration::notify(direction d) noexcept {
  const int i = index(d);
  // Wake in small batches so that the wakers run outside the lock (a wake
  // pushes onto a scheduler, which must never wait for this lock) without a
  // heap buffer. Only waiters that joined before this event are woken: they
  // hold an older ticket, and later ones are appended behind them.
  constexpr int batch = 8;
  waker wakers[batch];
  std::uint32_t now = 0;
  bool first = true;
  for (;;) {
    int n = 0;
    bool more = false;
    {
      std::lock_guard lock(mutex_);
      if (first) {
        // release: pairs with the acquire in ticket(); under the lock, so a
        // waiter checking its ticket in await_suspend sees it or is woken.
        now = ticks_[i].fetch_add(1, std::memory_order_release) + 1;
        first = false;
      }
      while (head_[i] && head_[i]->ticket_ != now && n < batch) {
        readiness_awaiter* w = head_[i];
        w->unlink();
        wakers[n++] = std::move(w->waker_);
      }
      more = head_[i] && head_[i]->ticket_ != now;
    }
    for (int k = 0; k < n; ++k) {
      wakers[k].wake();
      wakers[k] = waker{};
    }
    if (!more) return;
  }
}

std::size_t registration::num_waiters(direction d) noexcept {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (readiness_awaiter* w = head_[index(d)]; w; w = w->next_) ++n;
  return n;
}

// -- readiness_awaiter --------------------------------------------------------------

bool readiness_awaiter::await_suspend(std::coroutine_handle<> self) {
  task_header* task = task_header::current();
  if (!task) throw std::logic_error("weft: socket I/O must be awaited inside a weft task");
  const int i = registration::index(dir_);
  std::lock_guard lock(reg_.mutex_);
  // An event since the ticket was taken: the syscall may succeed now.
  if (reg_.ticks_[i].load(std::memory_order_relaxed) != ticket_) return false;
  waker_ = task->prepare_suspend(self);
  prev_ = reg_.tail_[i];
  next_ = nullptr;
  if (prev_) prev_->next_ = this;
  else reg_.head_[i] = this;
  reg_.tail_[i] = this;
  linked_ = true;
  suspended_ = true;
  return true;
}

readiness_awaiter::~readiness_awaiter() {
  if (!suspended_) return;
  // The frame is going away: either the reactor already took our waker
  // (linked_ false) or we take ourselves out before it can.
  waker dropped;
  {
    std::lock_guard lock(reg_.mutex_);
    if (!linked_) return;
    unlink();
    dropped = std::move(waker_);
  }
}

void readiness_awaiter::unlink() noexcept {
  const int i = registration::index(dir_);
  if (prev_) prev_->next_ = next_;
  else reg_.head_[i] = next_;
  if (next_) next_->prev_ = prev_;
  else reg_.tail_[i] = prev_;
  prev_ = next_ = nullptr;
  linked_ = false;
}

}  // namespace weft::detail

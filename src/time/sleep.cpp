// SPDX-License-Identifier: MIT
// sleep, sleep_until, interval, and timeout's wait: all built on timer_wait,
// one timer entry embedded in the awaiting coroutine's frame (no allocation
// beyond the frame).
//
// Handshake with the driver: the entry is armed with the task's waker. The
// fire moves the waker out, then sets fired_ (release), then wakes — and
// never touches the entry again. If the frame is destroyed while armed
// (abort, timeout), the destructor removes the entry under the driver's
// mutex; if it is no longer pending, a fire is under way and the destructor
// waits for fired_, so nothing ever fires into freed memory.
#include "time/time_driver.hpp"

#include <weft/detail/deadline.hpp>
#include <weft/time.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>

namespace weft {

namespace detail {
namespace {

class timer_wait final : public timer_entry {
public:
  timer_wait(time_driver& driver, std::uint64_t deadline_ns) noexcept
      : timer_entry(&on_fire), driver_(driver), deadline_ns_(deadline_ns) {}
  timer_wait(const timer_wait&) = delete;
  timer_wait& operator=(const timer_wait&) = delete;
  ~timer_wait() { disarm(); }

  bool await_ready() const noexcept { return deadline_ns_ <= time_driver::now_ns(); }
  void await_suspend(std::coroutine_handle<> self) { arm(task_header::current()->prepare_suspend(self)); }
  void await_resume() noexcept { disarm(); }

  /// Arms the timer with `w`; usable alongside another wake-up source.
  void arm(waker w) noexcept {
    waker_ = std::move(w);
    is_armed_ = true;
    driver_.insert(*this, deadline_ns_);
  }

  void disarm() noexcept {
    if (!is_armed_) return;
    is_armed_ = false;
    if (driver_.remove(*this)) return;
    // acquire: pairs with the release in on_fire.
    while (!fired_.load(std::memory_order_acquire)) std::this_thread::yield();
  }

private:
  static void on_fire(timer_entry& entry) noexcept {
    auto& self = static_cast<timer_wait&>(entry);
    const waker w = std::move(self.waker_);
    self.fired_.store(true, std::memory_order_release);   // last touch of `self`
    w.wake();
  }

  time_driver& driver_;
  std::uint64_t deadline_ns_;
  waker waker_;
  bool is_armed_ = false;
  std::atomic<bool> fired_{false};
};

std::uint64_t to_ns(std::chrono::steady_clock::time_point tp) noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(tp.time_since_epoch()).count();
  return ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
}

time_driver& current_timers() { return current_time_driver(); }

task_header& current_task() {
  task_header* task = task_header::current();
  if (!task) throw std::logic_error("weft: timers must be awaited inside a weft task");
  return *task;
}

}  // namespace

// `op` by reference: its one caller, timeout(), owns it (inline_task_ref) and
// awaits this task at once, so it outlives the frame.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-reference-coroutine-parameters)
task<void> wait_woken_or_deadline(inline_task_base& op, std::chrono::steady_clock::time_point deadline) {
  struct either {
    inline_task_base& op;
    timer_wait timer;
    bool await_ready() const noexcept { return op.is_woken() || timer.await_ready(); }
    bool await_suspend(std::coroutine_handle<> self) {
      waker w = current_task().prepare_suspend(self);
      if (!op.set_parent(w)) return false;   // woken meanwhile
      timer.arm(std::move(w));
      return true;
    }
    void await_resume() noexcept {
      timer.disarm();
      op.clear_parent();
    }
  };
  either wait{op, timer_wait(current_timers(), to_ns(deadline))};
  co_await wait;
}

}  // namespace detail

task<void> sleep_until(std::chrono::steady_clock::time_point deadline) {
  detail::current_task();
  co_await detail::timer_wait(detail::current_timers(), detail::to_ns(deadline));
}

task<void> sleep(std::chrono::nanoseconds duration) { return sleep_until(detail::deadline_after(duration)); }

interval::interval(std::chrono::nanoseconds period) : period_(period), next_(std::chrono::steady_clock::now()) {
  if (period <= std::chrono::nanoseconds::zero()) throw std::invalid_argument("weft: interval period must be positive");
}

task<void> interval::tick() {
  const auto due = next_;
  if (due > std::chrono::steady_clock::now()) co_await sleep_until(due);
  const auto now = std::chrono::steady_clock::now();
  switch (behavior_) {
  case missed_tick_behavior::burst: next_ = detail::saturating_add(due, period_); break;
  case missed_tick_behavior::delay: next_ = detail::saturating_add(now, period_); break;
  case missed_tick_behavior::skip:
    next_ = detail::saturating_add(due, period_);
    if (next_ <= now) next_ += ((now - next_) / period_ + 1) * period_;
    break;
  }
}

}  // namespace weft

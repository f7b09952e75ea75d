// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// run_blocking's job: a blocking closure that lives in the awaiting frame
/// and borrows it (frame_borrow.hpp) while it may run. Internal; not API.

#include <weft/detail/blocking_job.hpp>
#include <weft/detail/blocking_task.hpp>
#include <weft/detail/frame_borrow.hpp>
#include <weft/detail/task_header.hpp>
#include <weft/join_error.hpp>
#include <weft/task.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <source_location>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>

namespace weft::detail {

/// Runs `*f` on the pool. Two references: the awaiter's and the pool's.
/// Who runs it is decided by one compare-exchange on phase_ (queued ->
/// running by a pool thread, queued -> done by the pool's cancellation, or
/// queued -> aborting -> done by cancel_borrow, which takes the job out of
/// its pool's queue meanwhile, as blocking_task's abort does); the winner
/// ends the borrow, then wakes the awaiting task, so that a deferred
/// shutdown destroys the frame before anything could resume it.
template <class F>
class borrow_job final : public blocking_job, public frame_borrow {
public:
  using result_type = blocking_result_t<F>;

  static void* operator new(std::size_t size) { return allocate_task_memory(size); }
  static void operator delete(void* self, std::size_t size) noexcept { free_task_memory(self, size); }

  borrow_job(F& f, std::source_location where) noexcept : f_(&f), where_(where) {}

  /// On the polling thread: borrows `task`'s frame, then queues the job.
  /// `resume` wakes the task when the closure has returned.
  void start(task_header& task, waker resume) noexcept {
    id_ = task.id();
    waker_ = std::move(resume);
    begin(task);
  }

  /// The closure's result; rethrows what it threw; join_error (cancelled)
  /// if it never ran (the pool was shut down).
  result_type take() {
    if (result_.index() == 1) {
      if constexpr (std::is_void_v<result_type>) return;
      else return std::move(std::get<1>(result_));
    }
    if (result_.index() == 2) std::rethrow_exception(std::get<2>(result_));
    throw join_error::cancelled(id_, where_);
  }

  void release() noexcept {
    // acq_rel: the last owner sees the other's writes (result, phase).
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // -- blocking_job (pool side) ------------------------------------------------------
  void run() noexcept override {
    std::uint8_t expected = queued;
    if (!phase_.compare_exchange_strong(expected, running, std::memory_order_acq_rel)) return;
    try {
      if constexpr (std::is_void_v<result_type>) {
        call();
        result_.template emplace<1>();
      } else {
        result_.template emplace<1>(call());
      }
    } catch (...) {
      result_.template emplace<2>(std::current_exception());
    }
  }
  void complete() noexcept override {
    wait_not_aborting();
    // acq_rel: pairs with claim_unstarted's compare-exchange.
    if (phase_.exchange(done, std::memory_order_acq_rel) == running) end_and_wake();
    release();
  }
  void cancel(std::exception_ptr why) noexcept override {
    wait_not_aborting();
    if (claim_unstarted()) {
      if (why) result_.template emplace<2>(std::move(why));
      end_and_wake();
    }
    release();
  }
  void request_stop() noexcept override {
    if constexpr (stop_aware<F>) stop_.request_stop();
  }

  // -- frame_borrow ------------------------------------------------------------------
  void cancel_borrow() noexcept override {
    std::uint8_t expected = queued;
    if (!phase_.compare_exchange_strong(expected, aborting, std::memory_order_acq_rel)) {
      request_stop();
      return;
    }
    // Never runs. Out of the queue now, not when a thread would reach it;
    // then the pool's reference is ours to drop.
    const bool unlinked = queue_ != nullptr && queue_->try_cancel(*this);
    // release: pairs with wait_not_aborting()'s acquire.
    phase_.store(done, std::memory_order_release);
    end_and_wake();
    if (unlinked) release();
  }
  // relaxed: taken while a reference is held (under the registry's mutex);
  // release()'s acq_rel orders the drop.
  void add_borrow_ref() noexcept override { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release_borrow_ref() noexcept override { release(); }

private:
  enum : std::uint8_t { queued, running, aborting, done };

  /// The pool's calls wait while cancel_borrow() may still use the pool (a
  /// few instructions: a lock held for an unlink).
  void wait_not_aborting() noexcept {
    // acquire: pairs with cancel_borrow()'s release store of done.
    while (phase_.load(std::memory_order_acquire) == aborting) std::this_thread::yield();
  }
  bool claim_unstarted() noexcept {
    std::uint8_t expected = queued;
    return phase_.compare_exchange_strong(expected, done, std::memory_order_acq_rel);
  }
  void end_and_wake() noexcept {
    const waker resume = std::move(waker_);
    end();            // may destroy the awaiting frame (a deferred shutdown)
    resume.wake();    // a destroyed task's waker does nothing
  }
  decltype(auto) call() {
    if constexpr (stop_aware<F>) return std::invoke(*f_, stop_.get_token());
    else return std::invoke(*f_);
  }

  F* f_;   // in the awaiting frame, which the borrow keeps alive
  std::source_location where_;
  task_id id_ = 0;
  waker waker_;
  std::atomic<std::uint32_t> refs_{2};
  std::atomic<std::uint8_t> phase_{queued};
  std::variant<std::monostate, stored_t<result_type>, std::exception_ptr> result_;
  [[no_unique_address]] std::conditional_t<stop_aware<F>, std::stop_source, std::monostate> stop_;
};

}  // namespace weft::detail

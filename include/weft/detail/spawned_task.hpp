// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// A coroutine frame driven by the scheduler as a top-level task.

#include <weft/detail/join_state.hpp>
#include <weft/task.hpp>

#include <coroutine>
#include <cstddef>
#include <utility>
#include <variant>

namespace weft::detail {

/// Owns the root frame of a spawned task<T> and moves its result into the
/// join state when it finishes. Created with two references: the join
/// handle's and the scheduler's (dropped in on_complete()).
///
/// Until it finishes, the frame is kept in the result slot (alternative 3):
/// the slot has nothing else to hold yet, and a spawned task then fits 96
/// bytes rather than 112 (see the layout note in task_header.hpp). Only the
/// thread polling the task, or the one shutting it down, touches the slot
/// before completion is published.
template <class T>
class spawned_task final : public join_state<T> {
public:
  using frame_type = std::coroutine_handle<task_promise<T>>;

  static void* operator new(std::size_t size) { return allocate_task_memory(size); }
  static void operator delete(void* self, std::size_t size) noexcept { free_task_memory(self, size); }

  spawned_task(schedule_target& target, std::source_location where, frame_type frame) noexcept
      : join_state<T>(&target, where, task_header::scheduled, 2) {
    this->resume_at_ = frame;
    this->result_.template emplace<3>(frame);
  }
  spawned_task(const spawned_task&) = delete;
  spawned_task& operator=(const spawned_task&) = delete;

  void poll() noexcept override {
    if (this->begin_poll()) {
      shutdown();
      return;
    }
    {
      typename task_header::poll_scope scope(this);
      if (auto at = std::exchange(this->resume_at_, {})) at.resume();
    }
    const frame_type frame = running_frame();
    if (frame.done()) {
      store_result(frame.promise());   // replaces the frame in the slot
      frame.destroy();
      this->finish();
      this->on_complete();
      return;
    }
    this->end_poll();
  }

  void abort() noexcept override { this->cancel_and_schedule(); }

  void shutdown() noexcept override {
    // A run_blocking closure borrows the frame: the scheduler forgets the
    // task now, and the closure's end of the borrow destroys the frame and
    // completes the task (see frame_borrow.hpp).
    if (this->defer_shutdown_while_borrowed()) {
      this->on_complete();
      return;
    }
    destroy_frame_and_finish();
    this->on_complete();
  }

  void finish_deferred_shutdown() noexcept override { destroy_frame_and_finish(); }

  ~spawned_task() override {
    if (this->result_.index() == 3) running_frame().destroy();
  }

private:
  void destroy_frame_and_finish() noexcept {
    // Destroying the frame runs the destructors of every local in the await
    // chain; their awaiters deregister from timers, I/O and joins.
    if (this->result_.index() == 3) {
      const frame_type frame = running_frame();
      this->result_.template emplace<0>();   // cancelled
      frame.destroy();
    }
    this->finish();
  }

  frame_type running_frame() const noexcept { return frame_type::from_address(std::get<3>(this->result_).address()); }

  void store_result(task_promise<T>& promise) noexcept {
    if constexpr (std::is_void_v<T>) {
      if (promise.error_) this->result_.template emplace<2>(promise.error_);
      else this->result_.template emplace<1>();
    } else {
      if (promise.result_.index() == 2) this->result_.template emplace<2>(std::get<2>(promise.result_));
      else this->result_.template emplace<1>(std::move(std::get<1>(promise.result_)));
    }
  }
};

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// A coroutine frame driven by the scheduler as a top-level task.

#include <weft/detail/join_state.hpp>
#include <weft/task.hpp>

#include <coroutine>
#include <utility>

namespace weft::detail {

/// Owns the root frame of a spawned task<T> and moves its result into the
/// join state when it finishes. Created with two references: the join
/// handle's and the scheduler's (dropped in on_complete()).
template <class T>
class spawned_task final : public join_state<T> {
public:
  using frame_type = std::coroutine_handle<task_promise<T>>;

  spawned_task(schedule_target& target, std::source_location where, frame_type frame) noexcept
      : join_state<T>(&target, where, task_header::scheduled), frame_(frame) {
    this->resume_at_ = frame;
    this->add_ref();
  }

  void poll() noexcept override {
    if (this->begin_poll()) {
      shutdown();
      return;
    }
    {
      typename task_header::poll_scope scope(this);
      if (auto at = std::exchange(this->resume_at_, {})) at.resume();
    }
    if (frame_.done()) {
      store_result();
      frame_.destroy();
      frame_ = {};
      this->finish();
      this->on_complete();
      return;
    }
    this->end_poll();
  }

  void abort() noexcept override { this->cancel_and_schedule(); }

  void shutdown() noexcept override {
    // Destroying the frame runs the destructors of every local in the await
    // chain; their awaiters deregister from timers, I/O and joins.
    if (frame_) std::exchange(frame_, {}).destroy();
    this->finish();
    this->on_complete();
  }

  ~spawned_task() override {
    if (frame_) frame_.destroy();
  }

private:
  void store_result() noexcept {
    auto& promise = frame_.promise();
    if constexpr (std::is_void_v<T>) {
      if (promise.error_) this->result_.template emplace<2>(promise.error_);
      else this->result_.template emplace<1>();
    } else {
      if (promise.result_.index() == 2) this->result_.template emplace<2>(std::get<2>(promise.result_));
      else this->result_.template emplace<1>(std::move(std::get<1>(promise.result_)));
    }
  }

  frame_type frame_;
};

}  // namespace weft::detail

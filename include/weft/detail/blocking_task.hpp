// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// A blocking closure, its result and its join state in one allocation, and
/// the compile-time rules spawn_blocking enforces.

#include <weft/detail/blocking_job.hpp>
#include <weft/detail/join_state.hpp>

#include <atomic>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <utility>

namespace weft::detail {

/// Something that can be co_awaited: what a blocking closure must not return.
template <class R>
concept awaitable_like = requires(R r) { std::move(r).operator co_await(); } || requires(R r) { r.await_ready(); };

template <class F>
concept stop_aware = std::invocable<F&, std::stop_token>;

template <class F>
struct blocking_call {
  using raw = std::conditional_t<stop_aware<F>, std::invoke_result<F&, std::stop_token>, std::invoke_result<F&>>;
};

/// What spawn_blocking(f) gives: f's result, decayed (a closure's reference
/// into its own captures would dangle once the captures are destroyed).
template <class F>
using blocking_result_t = std::decay_t<typename blocking_call<F>::raw::type>;

/// The rules spawn_blocking checks, each named by its static_assert there.
template <class F>
inline constexpr bool owns_inputs = std::is_constructible_v<std::decay_t<F>, F>;

template <class F>
inline constexpr bool is_blocking_callable = std::invocable<F&> || std::invocable<F&, std::stop_token>;

template <class F>
consteval bool is_synchronous() {
  if constexpr (is_blocking_callable<F>) return !awaitable_like<typename blocking_call<F>::raw::type>;
  else return true;
}

/// The closure F, producing R, as a blocking job. Created with two
/// references: the join handle's and the pool's (dropped in complete() or
/// cancel()).
///
/// Who runs it is decided by one compare-exchange on phase_: a pool thread
/// (queued -> running), shutdown or a bounded pool's rejection (queued ->
/// done) or abort() (queued -> aborting -> done). An aborted job completes at once and destroys its
/// closure, and abort takes it out of its pool's queue (job_queue) while
/// in `aborting`: the pool's own calls (complete, cancel) wait for that to
/// end, so the pool — kept alive by them — cannot be destroyed under abort.
/// (A bounded pool's try_cancel also grants the freed slot to its next
/// admit waiter, under the same lock.)
/// A job a thread had already claimed stays there as a husk the thread
/// discards.
template <class R, class F>
class blocking_task final : public join_state<R>, public blocking_job {
public:
  template <class G>
  blocking_task(schedule_target& target, std::source_location where, G&& f) : join_state<R>(&target, where, 0) {
    ::new (static_cast<void*>(&storage_)) F(std::forward<G>(f));
    this->add_ref();
  }
  blocking_task(const blocking_task&) = delete;
  blocking_task& operator=(const blocking_task&) = delete;
  ~blocking_task() override {
    if (phase_.load(std::memory_order_relaxed) == queued) destroy_closure();
  }

  // -- blocking_job (pool side) ------------------------------------------------------
  void run() noexcept override {
    std::uint8_t expected = queued;
    if (!phase_.compare_exchange_strong(expected, running, std::memory_order_acq_rel)) return;
    try {
      invoke();
    } catch (...) {
      this->result_.template emplace<2>(std::current_exception());
    }
    destroy_closure();   // the captures go as soon as the closure returns
  }

  void complete() noexcept override {
    wait_not_aborting();
    // acquire: pairs with abort()'s store of done, so a husk's finish() is complete.
    if (phase_.exchange(done, std::memory_order_acq_rel) == running) this->finish();
    this->release();
  }

  void cancel(std::exception_ptr why) noexcept override {
    wait_not_aborting();
    if (claim_unstarted()) {
      if (why) this->result_.template emplace<2>(std::move(why));
      this->finish();
    }
    this->release();
  }

  void request_stop() noexcept override {
    if constexpr (stop_aware<F>) stop_.request_stop();
  }

  const task_header* header() const noexcept override { return this; }

  void reject(std::exception_ptr why) noexcept override {
    wait_not_aborting();
    if (claim_unstarted()) {
      this->result_.template emplace<4>(rejection{std::move(why)});
      this->finish();
    }
    this->release();
  }

  // -- task_header (handle side) ---------------------------------------------------
  void poll() noexcept override {}   // never scheduled: run by the pool

  void abort() noexcept override {
    std::uint8_t expected = queued;
    if (!phase_.compare_exchange_strong(expected, aborting, std::memory_order_acq_rel)) {
      request_stop();
      return;
    }
    destroy_closure();
    // Out of the queue now, not when a thread would reach it; then the
    // pool's reference is ours to drop.
    const bool unlinked = this->queue_ != nullptr && this->queue_->try_cancel(*this);
    this->finish();
    // release: pairs with wait_not_aborting()'s acquire.
    phase_.store(done, std::memory_order_release);
    if (unlinked) this->release();
  }

private:
  enum : std::uint8_t { queued, running, aborting, done };

  /// The pool's calls wait while abort() may still use the pool (a few
  /// instructions: a lock held for an unlink).
  void wait_not_aborting() noexcept {
    // acquire: pairs with abort()'s release store of done.
    while (phase_.load(std::memory_order_acquire) == aborting) std::this_thread::yield();
  }

  /// queued -> done, destroying the closure unrun. False if a thread took it.
  bool claim_unstarted() noexcept {
    std::uint8_t expected = queued;
    if (!phase_.compare_exchange_strong(expected, done, std::memory_order_acq_rel)) return false;
    destroy_closure();
    return true;
  }

  /// Destroys the closure. A capture whose destructor throws would end the
  /// process here (every caller is noexcept): what it throws becomes the
  /// job's panic instead, unless the closure itself threw first.
  void destroy_closure() noexcept {
    if constexpr (std::is_nothrow_destructible_v<F>) {
      closure().~F();
    } else {
      try {
        closure().~F();
      } catch (...) {
        if (this->result_.index() != 2) this->result_.template emplace<2>(std::current_exception());
      }
    }
  }

  void invoke() {
    if constexpr (std::is_void_v<R>) {
      call();
      this->result_.template emplace<1>();
    } else {
      this->result_.template emplace<1>(call());
    }
  }
  decltype(auto) call() {
    if constexpr (stop_aware<F>) return std::invoke(closure(), stop_.get_token());
    else return std::invoke(closure());
  }

  F& closure() noexcept { return *std::launder(reinterpret_cast<F*>(&storage_)); }

  alignas(F) unsigned char storage_[sizeof(F)];
  std::atomic<std::uint8_t> phase_{queued};
  [[no_unique_address]] std::conditional_t<stop_aware<F>, std::stop_source, std::monostate> stop_;
};

}  // namespace weft::detail

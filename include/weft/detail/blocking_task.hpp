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
#include <type_traits>
#include <utility>

namespace weft::detail {

/// Something that can be co_awaited: what a blocking closure must not return.
template <class R>
concept awaitable_like = requires(R r) { std::move(r).operator co_await(); } ||
                         requires(R r) { r.await_ready(); };

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
/// (queued -> running) or abort()/shutdown (queued -> done). An aborted job
/// completes at once and destroys its closure; the pool discards the husk
/// when it reaches it, so abort never needs the pool.
template <class R, class F>
class blocking_task final : public join_state<R>, public blocking_job {
public:
  template <class G>
  blocking_task(schedule_target& target, std::source_location where, G&& f)
      : join_state<R>(&target, where, 0) {
    ::new (static_cast<void*>(&storage_)) F(std::forward<G>(f));
    this->add_ref();
  }
  ~blocking_task() override {
    if (phase_.load(std::memory_order_relaxed) == queued) closure().~F();
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
    closure().~F();   // the captures go as soon as the closure returns
  }

  void complete() noexcept override {
    // acquire: pairs with abort()'s exchange, so a husk's finish() is complete.
    if (phase_.exchange(done, std::memory_order_acq_rel) == running) this->finish();
    this->release();
  }

  void cancel(std::exception_ptr why) noexcept override {
    if (claim_unstarted()) {
      if (why) this->result_.template emplace<2>(std::move(why));
      this->finish();
    }
    this->release();
  }

  void request_stop() noexcept override {
    if constexpr (stop_aware<F>) stop_.request_stop();
  }

  void reject(std::exception_ptr why) noexcept override {
    if (claim_unstarted()) {
      this->result_.template emplace<4>(rejection{std::move(why)});
      this->finish();
    }
    this->release();
  }

  // -- task_header (handle side) ---------------------------------------------------
  void poll() noexcept override {}   // never scheduled: run by the pool

  void abort() noexcept override {
    // Still queued: leave the queue now, so that the queue (and its gauge)
    // forgets the job at once rather than when a thread would reach it.
    // (Only while unstarted: a finished job's pool may be gone — a handle can
    // outlive its runtime — and a queued job's pool is alive.)
    if (this->queue_ != nullptr && phase_.load(std::memory_order_relaxed) == queued &&
        this->queue_->try_cancel(*this)) {
      if (claim_unstarted()) this->finish();
      this->release();   // the pool's reference: it never reaches the job now
      return;
    }
    if (claim_unstarted()) this->finish();
    else request_stop();
  }

private:
  enum : std::uint8_t { queued, running, done };

  /// queued -> done, destroying the closure unrun. False if a thread took it.
  bool claim_unstarted() noexcept {
    std::uint8_t expected = queued;
    if (!phase_.compare_exchange_strong(expected, done, std::memory_order_acq_rel)) return false;
    closure().~F();
    return true;
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

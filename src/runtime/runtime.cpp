// SPDX-License-Identifier: MIT
// runtime, runtime::builder and handle: validation and forwarding to
// runtime_core.
#include "runtime/runtime_core.hpp"

#include <weft/detail/deadline.hpp>
#include <weft/runtime.hpp>

#include <climits>
#include <pthread.h>
#include <sys/prctl.h>
#include <thread>

namespace weft {

no_runtime::no_runtime() : std::logic_error("must be called from the context of a weft runtime") {}

// -- detail entry points -----------------------------------------------------------

namespace detail {

runtime_core& current_core() {
  runtime_core* core = runtime_core::current();
  if (!core) throw no_runtime();
  return *core;
}

schedule_target& scheduler_of(runtime_core& core) noexcept { return core.tasks(); }

bool spawn_on(runtime_core& core, task_header& task) noexcept { return core.tasks().spawn(task); }

void submit_blocking(runtime_core& core, blocking_job& job) noexcept { core.pool().submit(job); }

void check_not_worker(runtime_core&) { check_may_block(); }

void check_may_block() {
  // Any runtime's worker, as Tokio refuses a nested runtime: blocking one
  // stalls every task queued behind it, and on its own runtime deadlocks.
  if (scheduler::on_any_worker())
    throw std::logic_error("weft: cannot block an async worker: co_await the task instead");
}

void drive_until(runtime_core& core, const task_header& root) {
  runtime_core::enter_scope scope(&core);
  if (!core.is_current_thread_flavor()) return;   // workers run it; the caller waits on the handle
  // This thread may sleep in the driver: keep timers precise while it does
  // (limits.md §5), and leave the caller's timer slack as it was.
  struct precise_timers {
    long previous = prctl(PR_GET_TIMERSLACK, 0UL, 0UL, 0UL, 0UL);
    precise_timers() { prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); }
    ~precise_timers() { prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(previous), 0UL, 0UL, 0UL); }
  } slack;
  // Current-thread flavor: whoever holds the core drives it. If another
  // thread does, wait for our task, taking over if that thread lets go.
  auto pause = std::chrono::microseconds(20);
  while (!root.is_complete()) {
    if (core.tasks().try_drive_until(root)) return;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
}

}  // namespace detail

// -- handle --------------------------------------------------------------------------

handle handle::current() {
  detail::runtime_core* core = detail::runtime_core::current();
  if (!core) throw no_runtime();
  return handle(core->shared_from_this());
}

std::optional<handle> handle::try_current() noexcept {
  detail::runtime_core* core = detail::runtime_core::current();
  if (!core) return std::nullopt;
  return handle(core->shared_from_this());
}

runtime_metrics handle::metrics() const { return core_->metrics(); }

std::vector<task_snapshot> handle::dump() const { return core_->dump(); }

// -- runtime ---------------------------------------------------------------------------

runtime::runtime() : runtime(builder::multi_thread().build()) {}
namespace {
/// More async workers than this is a mistake (SIZE_MAX used to allocate
/// worker records until memory ran out): a fixed bound, the same on every
/// machine, far above any useful count — workers beyond the cores only
/// take turns on them.
constexpr std::size_t max_worker_threads = 4096;

const detail::runtime_config& checked(const detail::runtime_config& config) {
  if (config.worker_threads > max_worker_threads)
    throw std::invalid_argument("weft: worker_threads is " + std::to_string(config.worker_threads) +
                                "; at most 4096 are allowed");
  return config;
}
}  // namespace

runtime::runtime(const detail::runtime_config& config) : core_(detail::runtime_core::create(checked(config))) {}
runtime::runtime(runtime&&) noexcept = default;
runtime& runtime::operator=(runtime&& other) noexcept {
  if (this != &other) {
    if (core_) core_->shutdown(std::nullopt);
    core_ = std::move(other.core_);
  }
  return *this;
}
runtime::~runtime() {
  if (core_) core_->shutdown(std::nullopt);
}

namespace {
/// Shutting a runtime down cancels its tasks and joins its workers, which
/// the calling task and worker cannot do to themselves (it used to hang:
/// the caller was never cancelled and the worker joined itself).
void check_not_own_task(detail::runtime_core& core) {
  if (core.tasks().is_worker_thread())
    throw std::logic_error(
        "weft: cannot shut a runtime down from one of its own tasks; signal the thread that owns the runtime "
        "(e.g. with a oneshot channel it awaits) and shut down there");
}
}  // namespace

shutdown_report runtime::shutdown_timeout(std::chrono::nanoseconds timeout) {
  check_not_own_task(checked_core());
  return core_->shutdown(detail::deadline_after(timeout));
}

void runtime::shutdown_background() {
  check_not_own_task(checked_core());
  core_->shutdown(std::chrono::steady_clock::now());
}

runtime_metrics runtime::metrics() const { return checked_core().metrics(); }

handle runtime::get_handle() const {
  checked_core();
  return handle(core_);
}

detail::runtime_core& runtime::checked_core() const {
  if (!core_) throw std::logic_error("weft: runtime used after it was moved from");
  return *core_;
}

std::vector<task_snapshot> runtime::dump() const { return core_->dump(); }

// -- builder ----------------------------------------------------------------------------

runtime::builder runtime::builder::multi_thread() { return builder(); }

runtime::builder runtime::builder::current_thread() {
  builder b;
  b.config_.current_thread = true;
  return b;
}

runtime::builder& runtime::builder::worker_threads(std::size_t n) {
  if (n == 0) throw std::invalid_argument("weft: worker_threads must be at least 1");
  config_.worker_threads = n;
  return *this;
}

runtime::builder& runtime::builder::max_blocking_threads(std::size_t n) {
  if (n == 0) throw std::invalid_argument("weft: max_blocking_threads must be at least 1");
  config_.max_blocking_threads = n;
  return *this;
}

runtime::builder& runtime::builder::thread_keep_alive(std::chrono::nanoseconds idle) {
  if (idle < std::chrono::nanoseconds::zero())
    throw std::invalid_argument("weft: thread_keep_alive must not be negative");
  config_.thread_keep_alive = idle;
  return *this;
}

runtime::builder& runtime::builder::thread_name(std::string prefix) {
  if (prefix.empty()) throw std::invalid_argument("weft: thread_name must not be empty");
  config_.thread_name = std::move(prefix);
  return *this;
}

runtime::builder& runtime::builder::thread_stack_size(std::size_t bytes) {
  if (bytes < static_cast<std::size_t>(PTHREAD_STACK_MIN))
    throw std::invalid_argument("weft: thread_stack_size is below PTHREAD_STACK_MIN");
  config_.thread_stack_size = bytes;
  return *this;
}

runtime::builder& runtime::builder::on_thread_start(std::function<void()> f) {
  config_.on_thread_start = std::move(f);
  return *this;
}

runtime::builder& runtime::builder::on_thread_stop(std::function<void()> f) {
  config_.on_thread_stop = std::move(f);
  return *this;
}

// -- builder: diagnostics ------------------------------------------------------------------
// Thresholds are checked by build() (DESIGN §6: a negative one is
// std::invalid_argument at build()).

runtime::builder& runtime::builder::stall_threshold(std::chrono::nanoseconds threshold) {
  config_.stall_threshold = threshold;
  return *this;
}

runtime::builder& runtime::builder::on_stall(std::function<void(const stall_report&)> handler) {
  config_.on_stall = std::move(handler);
  return *this;
}

runtime::builder& runtime::builder::long_blocking_threshold(std::chrono::nanoseconds threshold) {
  config_.long_blocking_threshold = threshold;
  return *this;
}

runtime::builder& runtime::builder::on_long_blocking(std::function<void(const long_blocking_report&)> handler) {
  config_.on_long_blocking = std::move(handler);
  return *this;
}

runtime::builder& runtime::builder::enable_poll_time_histogram() {
  config_.poll_time_histogram = true;
  return *this;
}

runtime runtime::builder::build() const {
  if (config_.stall_threshold < std::chrono::nanoseconds::zero())
    throw std::invalid_argument("weft: stall_threshold must not be negative (0 turns the stall detector off)");
  if (config_.long_blocking_threshold < std::chrono::nanoseconds::zero())
    throw std::invalid_argument(
        "weft: long_blocking_threshold must not be negative (0 turns long-blocking reports off)");
  return runtime(config_);
}

}  // namespace weft

// SPDX-License-Identifier: MIT
// Process-wide signal state.
//
// # Delivery
// weft's handler does two async-signal-safe things: it increments the
// signal's delivery counter (a lock-free atomic) and writes 1 to an eventfd.
// Listeners dup that eventfd into their runtime's reactor (edge-triggered:
// every write is an edge for every registration); a woken listener compares
// the counter with the count it has seen. The counter is the truth and the
// eventfd only a wake-up, never drained (see signal_listener.cpp), so a
// delivery is never lost to coalescing, and every listener of a signal sees
// every delivery. Counters only grow: a
// listener created later starts from the current count, so it sees only
// later deliveries, and one arriving between on() and recv() is kept.
//
// # Dispositions
// The first listener of a signal installs the handler (sigaction, SA_RESTART
// so that blocking calls elsewhere are not interrupted) and saves the
// previous action; the last one to go restores it. mutex_ guards the counts
// and saved actions; the handler never takes it.
//
// # Lifetime
// Nothing here is ever destroyed or closed: a handler may run at any time,
// even during static destruction, and must find its counters and eventfd.
#include "signal/signal_registry.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>

#include <sys/eventfd.h>
#include <unistd.h>

namespace weft::detail::signals {

namespace {

constexpr int max_signals = NSIG;   // valid numbers are 1 .. NSIG-1

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the handler needs a lock-free counter");
static_assert(std::atomic<int>::is_always_lock_free, "the handler needs a lock-free fd");

// Incremented by the handler (release), read by listeners (acquire).
std::atomic<std::uint64_t> delivery_counts[max_signals];
// Set once, before any handler is installed; read by the handler. relaxed
// loads are enough there: sigaction() happens after the store in program
// order on the installing thread, and the kernel orders the handler after it.
std::atomic<int> event_fd{-1};

struct slot {
  int listeners = 0;
  struct sigaction previous{};
};

std::mutex& registry_mutex() {
  static auto* m = new std::mutex;   // leaked on purpose: see "Lifetime"
  return *m;
}
slot* slots() {
  static auto* s = new slot[max_signals];   // guarded by registry_mutex()
  return s;
}

void handle(int signo) noexcept {
  const int saved_errno = errno;
  if (signo > 0 && signo < max_signals) delivery_counts[signo].fetch_add(1, std::memory_order_release);
  const std::uint64_t one = 1;
  // Cannot fail in practice (the count would have to reach 2^64-2).
  [[maybe_unused]] const ssize_t n = ::write(event_fd.load(std::memory_order_relaxed), &one, sizeof one);
  errno = saved_errno;
}

[[noreturn]] void refuse(int signo, const char* why) {
  throw std::invalid_argument("weft::signal_listener::on(" + std::to_string(signo) + "): " + why);
}

void validate(int signo) {
  if (signo <= 0 || signo >= max_signals) refuse(signo, "not a signal number");
  if (signo == SIGKILL || signo == SIGSTOP) refuse(signo, "SIGKILL and SIGSTOP cannot be caught");
  if (signo == SIGILL || signo == SIGFPE || signo == SIGSEGV)
    refuse(signo, "a handler cannot return from SIGILL, SIGFPE or SIGSEGV");
}

void ensure_event_fd() {
  if (event_fd.load(std::memory_order_relaxed) >= 0) return;
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "weft::signal_listener::on: eventfd");
  event_fd.store(fd, std::memory_order_relaxed);
}

}  // namespace

std::uint64_t add_listener(int signo) {
  validate(signo);
  std::lock_guard lock(registry_mutex());
  ensure_event_fd();
  slot& s = slots()[signo];
  if (s.listeners == 0) {
    struct sigaction action{};
    action.sa_handler = handle;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (::sigaction(signo, &action, &s.previous) != 0) {
      const int error = errno;
      // glibc reserves a few real-time signals for itself and refuses them.
      if (error == EINVAL) refuse(signo, "reserved by the C library");
      throw std::system_error(error, std::generic_category(), "weft::signal_listener::on: sigaction");
    }
  }
  ++s.listeners;
  return delivery_counts[signo].load(std::memory_order_acquire);
}

void remove_listener(int signo) noexcept {
  std::lock_guard lock(registry_mutex());
  slot& s = slots()[signo];
  if (--s.listeners == 0) ::sigaction(signo, &s.previous, nullptr);
}

std::uint64_t deliveries(int signo) noexcept { return delivery_counts[signo].load(std::memory_order_acquire); }

int wake_fd() noexcept { return event_fd.load(std::memory_order_relaxed); }

int num_listeners(int signo) noexcept {
  std::lock_guard lock(registry_mutex());
  return slots()[signo].listeners;
}

}  // namespace weft::detail::signals

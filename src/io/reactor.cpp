// SPDX-License-Identifier: MIT
// The I/O reactor.
//
// # Shape
// One epoll instance per runtime. Every socket is registered once, when it is
// created, for EPOLLIN|EPOLLOUT|EPOLLRDHUP in edge-triggered mode; its
// epoll_event carries a pointer to its `registration`, so an event costs O(1)
// whatever the number of sockets. An eventfd, registered level-triggered with a
// null pointer, lets any thread end a wait (unpark).
//
// # Readiness protocol (registration.hpp)
// Per direction a registration keeps a ticket — the number of events seen —
// and a FIFO list of waiting tasks. An I/O operation:
//   1. takes the ticket (acquire), 2. tries the syscall, 3. on EAGAIN awaits
//   readiness_awaiter(ticket): under the registration's lock, if the ticket
//   moved it retries at once, else it links itself with its task's waker.
// wait() maps EPOLLIN/RDHUP/HUP/ERR/PRI to the read direction and
// EPOLLOUT/HUP/ERR to the write direction; for each it bumps the ticket
// (release, under the lock), unlinks the waiters that hold an older ticket,
// moves their wakers out, and wakes them after dropping the lock. Since the
// ticket is taken before the syscall, an edge that falls between a failed
// syscall and the link is never lost. A wake only means "try again": the
// operation retries the syscall and waits again on EAGAIN. The syscall itself
// always runs in the task, never in the reactor, so a task that is cancelled
// while waiting has performed nothing: no byte is read and then dropped.
//
// # Cancellation
// A waiting awaiter lives in the task's frame. If the frame is destroyed, its
// destructor takes the registration's lock and unlinks itself unless the
// reactor already did; the reactor only touches awaiters while they are linked
// and under that lock, so it never reads a dead frame. A waker the reactor
// already took may still fire after the frame is gone: wakers hold a reference
// to the task header and a stale wake is ignored.
//
// # Registration lifetime
// add() allocates the registration; the socket owns it. On close the socket
// calls remove() — EPOLL_CTL_DEL, then the descriptor is closed — and the
// registration goes on a release stack instead of being freed, because the
// thread inside wait() may hold an event naming it (epoll_pwait2 returned, not
// yet dispatched). wait() frees the stack when it *starts*: everything on the
// stack was deleted from epoll before that, so no later epoll_pwait2 can
// return it, and the previous wait(), the only one that could have, has
// finished (one thread at a time). The reactor's destructor frees the rest.
//
// # Unpark
// unpark() writes the eventfd only if unpark_pending_ was clear. wait() reads
// the eventfd first and clears the flag after, both before returning: an
// unpark that finds the flag set raced with a wait() that has already been
// woken and is returning, so its caller's work is found when the caller looks
// at its queues after wait() returns. (Clearing before the read could leave
// the flag set with the eventfd empty, and every later unpark would be lost.)
//
// # Shutdown
// Sockets keep their runtime (and so this reactor) alive; the reactor is
// destroyed after the last socket, closing epoll and the eventfd.
#include "io/reactor.hpp"

#include <cerrno>
#include <climits>
#include <ctime>
#include <system_error>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace weft::detail {

namespace {

[[noreturn]] void throw_errno(int error, const char* what) {
  throw std::system_error(error, std::generic_category(), what);
}

constexpr std::uint32_t read_events = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI;
constexpr std::uint32_t write_events = EPOLLOUT | EPOLLHUP | EPOLLERR;

}  // namespace

reactor::reactor() : events_(new epoll_event[max_events]), epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (epoll_fd_ < 0) throw_errno(errno, "weft: epoll_create1");
  event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) {
    const int error = errno;
    ::close(epoll_fd_);
    throw_errno(error, "weft: eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;   // level-triggered: reported until drained
  ev.data.ptr = nullptr;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev) != 0) {
    const int error = errno;
    ::close(event_fd_);
    ::close(epoll_fd_);
    throw_errno(error, "weft: epoll_ctl(eventfd)");
  }
}

reactor::~reactor() {
  free_released();
  ::close(event_fd_);
  ::close(epoll_fd_);
}

// -- the driver -------------------------------------------------------------------

bool reactor::wait(std::optional<std::chrono::nanoseconds> timeout) noexcept {
  free_released();
  const int n = epoll_for(timeout);
  if (n > 0) num_added_.load(std::memory_order_acquire);   // pairs with add(): see the member
  for (int k = 0; k < n; ++k) {
    const epoll_event& ev = events_[k];
    auto* reg = static_cast<registration*>(ev.data.ptr);
    if (!reg) {
      drain_unpark();
      continue;
    }
    if ((ev.events & read_events) != 0) reg->notify(direction::read);
    if ((ev.events & write_events) != 0) reg->notify(direction::write);
  }
  return n > 0;
}

int reactor::epoll_for(std::optional<std::chrono::nanoseconds> timeout) noexcept {
  if (timeout && *timeout < std::chrono::nanoseconds::zero()) timeout = std::chrono::nanoseconds::zero();
  if (!no_pwait2_.load(std::memory_order_relaxed)) {
    timespec ts{};
    if (timeout) {
      ts.tv_sec = static_cast<time_t>(timeout->count() / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(timeout->count() % 1'000'000'000);
    }
    const int n = ::epoll_pwait2(epoll_fd_, events_.get(), max_events, timeout ? &ts : nullptr, nullptr);
    if (n >= 0) return n;
    if (errno != ENOSYS) return 0;   // EINTR: return and let the caller look around
    no_pwait2_.store(true, std::memory_order_relaxed);
  }
  int ms = -1;
  if (timeout) {
    const auto rounded_up = (timeout->count() + 999'999) / 1'000'000;
    ms = rounded_up > INT_MAX ? INT_MAX : static_cast<int>(rounded_up);
  }
  const int n = ::epoll_wait(epoll_fd_, events_.get(), max_events, ms);
  return n < 0 ? 0 : n;
}

void reactor::unpark() noexcept {
  if (unpark_pending_.exchange(true)) return;   // seq_cst: see the member
  const std::uint64_t one = 1;
  // Cannot fail short of a counter overflow, which the flag rules out.
  [[maybe_unused]] const ssize_t written = ::write(event_fd_, &one, sizeof one);
}

void reactor::drain_unpark() noexcept {
  std::uint64_t count = 0;
  [[maybe_unused]] const ssize_t got = ::read(event_fd_, &count, sizeof count);
  unpark_pending_.store(false);   // seq_cst: after the read, see "Unpark"
}

// -- registrations --------------------------------------------------------------------

registration* reactor::add(int fd) {
  auto* reg = new registration(fd);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = reg;
  num_added_.fetch_add(1, std::memory_order_release);   // pairs with wait(): see the member
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    const int error = errno;
    delete reg;
    throw_errno(error, "weft: epoll_ctl(EPOLL_CTL_ADD)");
  }
  return reg;
}

void reactor::remove(registration* r) noexcept {
  if (!r) return;
  // EBADF/ENOENT cannot happen for a live registration; nothing to do if so.
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, r->fd(), nullptr);
  registration* head = released_.load(std::memory_order_relaxed);
  do {
    r->next_released_ = head;
    // release: publishes next_released_ (and the DEL before it) to
    // free_released()'s acquire exchange.
  } while (!released_.compare_exchange_weak(head, r, std::memory_order_release, std::memory_order_relaxed));
}

void reactor::free_released() noexcept {
  // acquire: pairs with the release push in remove().
  registration* r = released_.exchange(nullptr, std::memory_order_acquire);
  while (r) {
    registration* next = r->next_released_;
    delete r;
    r = next;
  }
}

std::size_t reactor::num_pending_release() const noexcept {
  std::size_t n = 0;
  // acquire: pairs with remove()'s release push (tests read the links).
  for (registration* r = released_.load(std::memory_order_acquire); r; r = r->next_released_) ++n;
  return n;
}

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
// detail::io_object: a descriptor's registration with its runtime's reactor.
//
// The object holds the reactor through an aliasing shared_ptr to the runtime
// core, so a socket that outlives its runtime object (returned from block_on,
// kept by a blocking closure) can still deregister and close safely. Close
// order: remove() from epoll first, then close(): the registration memory
// itself is freed by the reactor later (see io/reactor.cpp, "Registration
// lifetime").
#include <weft/net.hpp>

#include "io/reactor.hpp"
#include "runtime/runtime_core.hpp"

#include <utility>

#include <unistd.h>

namespace weft::detail {

io_object::io_object(int fd) : fd_(fd) {
  try {
    runtime_core& core = current_core();
    reactor_ = std::shared_ptr<reactor>(core.shared_from_this(), &core.io());
    reg_ = reactor_->add(fd);
  } catch (...) {
    ::close(fd);
    throw;
  }
}

io_object::io_object(io_object&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      reg_(std::exchange(other.reg_, nullptr)),
      reactor_(std::move(other.reactor_)) {}

io_object& io_object::operator=(io_object&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    reg_ = std::exchange(other.reg_, nullptr);
    reactor_ = std::move(other.reactor_);
  }
  return *this;
}

io_object::~io_object() { close(); }

void io_object::close() noexcept {
  if (reg_) reactor_->remove(std::exchange(reg_, nullptr));
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  reactor_.reset();
}

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::detail::io_object`: a descriptor registered with a runtime's
/// reactor, the member every socket, child-process pipe and pidfd holds.
/// Internal; not API.

#include <memory>

namespace weft {

namespace detail {

class reactor;
class registration;

/// An open, non-blocking descriptor registered with a runtime's reactor:
/// deregisters and closes it when destroyed. Move-only. Internal.
class io_object {
public:
  io_object() noexcept = default;
  /// Takes ownership of `fd` and registers it with the current runtime's
  /// reactor. Errors: weft::no_runtime outside a runtime, std::system_error
  /// if epoll refuses; `fd` is closed on failure.
  explicit io_object(int fd);
  io_object(io_object&& other) noexcept;
  io_object& operator=(io_object&& other) noexcept;
  io_object(const io_object&) = delete;
  io_object& operator=(const io_object&) = delete;
  ~io_object();

  int fd() const noexcept { return fd_; }
  bool is_open() const noexcept { return fd_ >= 0; }
  registration& reg() const noexcept { return *reg_; }
  /// Deregisters and closes now (no-op if empty).
  void close() noexcept;

private:
  int fd_ = -1;
  registration* reg_ = nullptr;
  std::shared_ptr<reactor> reactor_;   // shares ownership of the runtime
};

}  // namespace detail

}  // namespace weft

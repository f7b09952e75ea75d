// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// The one door from weft's own code to the internals of its public types —
/// a handle's runtime core, a join_handle's shared state, a task's frame —
/// so that they stay out of the public API: each type befriends
/// detail::access. Internal; not API.

#include <memory>
#include <utility>

namespace weft {

class blocking_pool;
class handle;
class runtime;
template <class T>
class join_handle;
template <class T>
class task;

namespace detail {

// final (src/blocking/pool.hpp): clang-tidy 19 reads this declaration without it.
class blocking_pool;   // NOLINT(cppcoreguidelines-virtual-class-destructor)
class runtime_core;
class task_header;
struct runtime_config;
struct runtime_seams;
template <class T>
class join_state;

struct access {
  /// Gives up ownership of the task's frame (spawn, inline polling).
  template <class T>
  static auto release(task<T>& t) noexcept {
    return t.release();
  }
  template <class T>
  static auto release(task<T>&& t) noexcept {
    return std::move(t).release();
  }

  /// A handle owning one reference on `state`.
  template <class T>
  static join_handle<T> adopt(join_state<T>* state) noexcept {
    return join_handle<T>(state);
  }
  /// The shared state a handle refers to (block_on, join_set wait on it).
  template <class T>
  static task_header* state(const join_handle<T>& h) noexcept {
    return h.state_;
  }

  static handle make_handle(std::shared_ptr<runtime_core> core) noexcept;
  static runtime_core& core(const handle& h) noexcept;
  /// A runtime with test seams (src/runtime/runtime_seams.hpp).
  static runtime make_runtime(const runtime_config& config, const runtime_seams& seams);
  static weft::blocking_pool make_pool(std::shared_ptr<runtime_core> core, blocking_pool* pool) noexcept;
};

}  // namespace detail
}  // namespace weft

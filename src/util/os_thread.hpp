// SPDX-License-Identifier: MIT
#pragma once
// Starts an OS thread with a name and a stack size, which std::thread cannot
// set. Errors are returned, not thrown, so that callers on hot paths (the
// blocking pool) decide what a refused thread means.
#include <cstddef>
#include <functional>
#include <pthread.h>
#include <string>

namespace weft::detail {

/// Starts `body` on a new joinable thread named `name` (truncated to the
/// 15 characters Linux keeps). stack_size 0 = the OS default. Returns 0 or
/// the errno pthread_create gave.
int start_os_thread(pthread_t& thread, const std::string& name, std::size_t stack_size,
                    std::function<void()> body) noexcept;

}  // namespace weft::detail

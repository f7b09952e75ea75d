// SPDX-License-Identifier: MIT
// The non-template side of weft/pool.hpp: forwarding to the pools of
// src/blocking and to runtime_core.
#include "runtime/runtime_core.hpp"

#include <weft/pool.hpp>

namespace weft::detail {

void submit_to_pool(blocking_pool& pool, blocking_job& job) noexcept { pool.submit(job); }
bool reserve_pool_slot(blocking_pool& pool) noexcept { return pool.reserve_slot(); }
void submit_reserved(blocking_pool& pool, blocking_job& job) noexcept { pool.submit_reserved(job); }
void release_pool_slot(blocking_pool& pool) noexcept { pool.release_slot(); }
bool admit_to_pool(blocking_pool& pool, blocking_job& job, admit_waiter& waiter) noexcept {
  return pool.admit_or_wait(job, waiter);
}
bool leave_pool_admission(blocking_pool& pool, admit_waiter& waiter) noexcept { return pool.leave_admission(waiter); }
std::string_view pool_name(const blocking_pool& pool) noexcept { return pool.name(); }
std::size_t pool_max_threads(const blocking_pool& pool) noexcept { return pool.max_threads(); }
blocking_pool& compute_pool(runtime_core& core) noexcept { return core.compute(); }
blocking_pool& dedicated_thread(runtime_core& core, std::string name) { return core.dedicated_thread(std::move(name)); }

}  // namespace weft::detail

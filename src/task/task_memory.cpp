// SPDX-License-Identifier: MIT
// Task memory: where coroutine frames and spawned-task headers live
// (allocate_task_memory / free_task_memory, declared in weft/task.hpp).
//
// Why not malloc: a spawned task is allocated by the worker that spawns it
// and usually freed by the other one, which polled it to completion. glibc
// frees such a block under the owning arena's lock, ~290 ns against ~10 ns
// for a local pair (bench/README.md, machine floors), and a flood of spawns
// keeps too many blocks alive for its per-thread cache (7 per size) to
// help. In spawn_throughput malloc and free were 29% of the time.
//
// Shape (mimalloc's idea, much reduced):
// - Each thread that allocates gets a heap on its first allocation. A heap
//   carves its blocks out of 1 MiB regions aligned to their size; a region's
//   first bytes name its heap, so a block's owner is its address rounded
//   down. Sizes are rounded up to 16 bytes; each size up to 1 KiB has its
//   own lists, and larger blocks go to operator new.
// - A block freed on its owner's thread goes on the owner's free list for
//   its size: no atomics.
// - A block freed on another thread is pushed onto its owner's remote stack
//   for its size with one compare-exchange; the owner takes the whole stack
//   at once, as its free list, when that one runs dry. The stacks are per
//   size so that taking one is an exchange, not a walk: walking blocks
//   another core just wrote would stall on a cache miss per block, all in a
//   row. (Handing blocks back in batches listed in arrays, so that the
//   owner need not read the blocks at all, measured no faster: the
//   allocating thread then stalls on its stores into them instead.)
// - A thread that exits abandons its heap, with everything on its lists; the
//   next thread that needs a heap adopts it. Heaps are never destroyed
//   (blocks freed elsewhere may still arrive), so there are never more than
//   the most threads that allocated at once.
// - Freed memory is kept for reuse, never returned to the OS: the pool holds
//   its peak.
// Under AddressSanitizer the pools are off (plain operator new/delete), so
// that ASan still sees a use of a destroyed frame.
//
// THREAD SAFETY:
// - Owner thread: everything in its heap but the remote stacks.
// - Any thread: pushes onto a remote stack (compare-exchange, release); the
//   owner takes a stack with one exchange (acquire).
// - The abandoned-heap list: under its mutex.
#include <weft/task.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <sys/mman.h>
#include <vector>

namespace weft::detail {

#if defined(__SANITIZE_ADDRESS__)

void* allocate_task_memory(std::size_t size) { return ::operator new(size); }
void free_task_memory(void* block, std::size_t size) noexcept { ::operator delete(block, size); }

#else

namespace {

constexpr std::size_t granule = 16;
constexpr std::size_t max_pooled = 1024;
constexpr std::size_t num_sizes = max_pooled / granule + 1;   // index = size in granules
constexpr std::size_t region_size = std::size_t{1} << 20;
constexpr std::size_t region_header_size = 64;

/// A free block on its owner's free list: the next one of the same size.
struct free_block {
  free_block* next;
};

struct heap {
  free_block* free[num_sizes] = {};
  char* bump = nullptr;   // the unused end of the newest region
  char* bump_end = nullptr;
  std::size_t regions = 0;
  /// Blocks freed on other threads, one stack per size. One cache line
  /// each: the owner glances at the stack of one size while other threads
  /// push onto another's.
  struct alignas(64) remote_stack {
    std::atomic<free_block*> head{nullptr};
  };
  remote_stack remote[num_sizes];
};

struct region_header {
  heap* owner;
};

struct abandoned_heaps {
  std::mutex mutex;   // guards heaps
  std::vector<heap*> heaps;
};

/// Never destroyed: threads may exit (and abandon their heap) after static
/// destructors have run.
abandoned_heaps& abandoned() {
  static auto* list = new abandoned_heaps;
  return *list;
}

thread_local heap* tls_heap = nullptr;
thread_local bool tls_heap_gone = false;   // this thread's heap was abandoned at its exit

heap* adopt_heap() {
  abandoned_heaps& list = abandoned();
  {
    std::lock_guard lock(list.mutex);
    if (!list.heaps.empty()) {
      heap* h = list.heaps.back();
      list.heaps.pop_back();
      return h;
    }
  }
  return new heap;
}

void abandon_heap(heap* h) noexcept {
  abandoned_heaps& list = abandoned();
  std::lock_guard lock(list.mutex);
  try {
    list.heaps.push_back(h);
  } catch (...) {
    // Out of memory: the heap is lost to reuse. Its blocks stay valid, and
    // frees of them still arrive on its remote stacks.
  }
}

struct heap_owner {
  ~heap_owner() {
    heap* h = tls_heap;
    tls_heap = nullptr;
    tls_heap_gone = true;
    if (h) abandon_heap(h);
  }
};

/// The first allocation on this thread: own a heap until the thread exits.
heap& this_thread_heap() {
  static thread_local heap_owner owner;
  (void)owner;
  tls_heap = adopt_heap();
  return *tls_heap;
}

heap* owner_of(const void* block) noexcept {
  const auto base = reinterpret_cast<std::uintptr_t>(block) & ~(region_size - 1);
  return reinterpret_cast<const region_header*>(base)->owner;
}

/// Maps a fresh region for `h` and makes it the bump area.
void new_region(heap& h) {
  void* raw = ::mmap(nullptr, 2 * region_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const auto aligned = (start + region_size - 1) & ~(region_size - 1);
  if (aligned != start) ::munmap(raw, aligned - start);
  if (const auto tail = start + 2 * region_size - (aligned + region_size); tail != 0)
    ::munmap(reinterpret_cast<void*>(aligned + region_size), tail);
  char* region = reinterpret_cast<char*>(aligned);
  // A heap that needs a second region is a busy spawner: fault the region
  // in with one call rather than 256 page faults (about a quarter cheaper
  // here). The first region is left to fault page by page, so that a thread
  // that allocates one frame does not pay for a mebibyte. Failure (an old
  // kernel) only loses the head start.
  if (h.regions++ != 0) ::madvise(region, region_size, MADV_POPULATE_WRITE);
  ::new (region) region_header{&h};
  h.bump = region + region_header_size;
  h.bump_end = region + region_size;
}

/// Starts moving the cache line at `p` here, owned, ready to be written: a
/// block is about to be written by its new user. A plain prefetch would
/// bring a line another core wrote in shared state, and the first store
/// would then wait for a second round trip. Never faults, whatever `p` is.
inline void prefetch_for_write(const void* p) noexcept {
#if defined(__x86_64__)
  asm volatile("prefetchw (%0)" : : "r"(p));   // a no-op on CPUs without PRFCHW
#else
  __builtin_prefetch(p, 1);
#endif
}

/// Size in granules; at least one, so that a block can hold a free_block.
std::size_t granules_of(std::size_t size) noexcept { return std::max<std::size_t>(1, (size + granule - 1) / granule); }

/// A block from the local free list for its size, or null.
free_block* pop_free(heap& h, std::size_t granules) noexcept {
  free_block* b = h.free[granules];
  if (b) {
    h.free[granules] = b->next;
    // The block after it was most likely freed on another core: start
    // fetching it now rather than when the next allocation needs it.
    prefetch_for_write(b->next);
  }
  return b;
}

/// The free list is empty: take what other threads freed, else carve.
void* allocate_slow(heap& h, std::size_t granules) {
  // relaxed: a hint, checked before paying for the exchange.
  if (h.remote[granules].head.load(std::memory_order_relaxed) != nullptr) {
    // acquire: pairs with the release in free_task_memory, so the blocks
    // (and whatever their last users wrote) are ours before we reuse them.
    h.free[granules] = h.remote[granules].head.exchange(nullptr, std::memory_order_acquire);
    if (free_block* b = pop_free(h, granules)) return b;
  }
  const std::size_t bytes = granules * granule;
  if (static_cast<std::size_t>(h.bump_end - h.bump) < bytes) new_region(h);
  void* block = h.bump;
  h.bump += bytes;
  // Fresh memory comes from DRAM: ask for what the next few blocks will
  // need now, so that writing them does not wait.
  prefetch_for_write(h.bump + 512);
  return block;
}

}  // namespace

void* allocate_task_memory(std::size_t size) {
  const std::size_t granules = granules_of(size);
  if (size > max_pooled) return ::operator new(size);
  if (heap* h = tls_heap) [[likely]] {
    if (free_block* b = pop_free(*h, granules)) return b;
    return allocate_slow(*h, granules);
  }
  if (!tls_heap_gone) return allocate_slow(this_thread_heap(), granules);
  // Thread-exit destructors allocating after this thread gave its heap up:
  // borrow one for this block only.
  heap* h = adopt_heap();
  void* block = nullptr;
  try {
    block = allocate_slow(*h, granules);
  } catch (...) {
    abandon_heap(h);
    throw;
  }
  abandon_heap(h);
  return block;
}

void free_task_memory(void* block, std::size_t size) noexcept {
  if (size > max_pooled) {
    ::operator delete(block, size);
    return;
  }
  const std::size_t granules = granules_of(size);
  heap* owner = owner_of(block);
  if (owner == tls_heap) {
    owner->free[granules] = ::new (block) free_block{owner->free[granules]};
    return;
  }
  // release: pairs with the acquire in allocate_slow (the owner reuses the
  // block only after our writes to it are done).
  std::atomic<free_block*>& head = owner->remote[granules].head;
  auto* b = ::new (block) free_block{head.load(std::memory_order_relaxed)};
  while (!head.compare_exchange_weak(b->next, b, std::memory_order_release, std::memory_order_relaxed)) {
  }
}

#endif

}  // namespace weft::detail

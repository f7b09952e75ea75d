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
//   carves its blocks out of 2 MiB regions aligned to their size, each
//   region serving one size; a region's first bytes name its heap, so a
//   block's owner is its address rounded down. Sizes are rounded up to 16
//   bytes; each size up to 1 KiB has its own lists and regions, and larger
//   blocks go to operator new.
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
// - Giving memory back (it used to be kept forever: a burst of 200,000
//   tasks left hundreds of MB resident after the runtime was gone). A trim
//   of one size takes the remote stack, walks the free list, and unmaps
//   every region whose blocks are all free; the size's current region, if
//   all free, starts over and keeps 64 KiB resident. So what a thread
//   caches beyond its live blocks is bounded by the regions those blocks
//   pin (fragmentation, as in any region allocator). Trims run
//   - on a local free, every 256 KiB of frees of that size (at least as
//     many frees as the last trim kept blocks: the walk stays amortized
//     O(1) a free, and the hot paths only count);
//   - when a worker is about to sleep (trim_task_memory, from the
//     scheduler): a burst's memory goes once the burst is over;
//   - when a thread exits, and when a runtime has shut down
//     (release_task_memory: the heaps of exited threads too).
// Under AddressSanitizer the pools are off (plain operator new/delete), so
// that ASan still sees a use of a destroyed frame.
//
// THREAD SAFETY:
// - Owner thread: everything in its heap but the remote stacks, and the
//   headers of its regions (trims).
// - Any thread: pushes onto a remote stack (compare-exchange, release); the
//   owner takes a stack with one exchange (acquire).
// - The abandoned-heap list, and the heaps on it (release_task_memory
//   trims them): under its mutex.
#include "task/task_memory.hpp"
#include "util/sanitizers.hpp"

#include <weft/task.hpp>

#include <algorithm>
#include <climits>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <sys/mman.h>
#include <vector>

namespace weft::detail {

#if WEFT_ASAN

void* allocate_task_memory(std::size_t size) { return ::operator new(size); }
void free_task_memory(void* block, std::size_t size) noexcept { ::operator delete(block, size); }
void trim_task_memory() noexcept {}
void release_task_memory() noexcept {}

#else

namespace {

constexpr std::size_t granule = 16;
constexpr std::size_t max_pooled = 1024;
constexpr std::size_t num_sizes = max_pooled / granule + 1;   // index = size in granules
constexpr std::size_t region_size = std::size_t{2} << 20;
constexpr std::size_t region_header_size = 64;
/// Local frees of one size between two trims: a trim walks the free list,
/// so it is paid for by at least this many frees (and by more when most of
/// the list is pinned, see trim()).
constexpr std::size_t trim_interval_bytes = std::size_t{256} << 10;
/// A fully free current region keeps this much of its memory resident (the
/// rest goes back to the OS), so that a worker that goes idle between two
/// tasks does not pay a system call and page faults for every one.
constexpr std::size_t resident_after_trim = std::size_t{64} << 10;

/// A free block on its owner's free list: the next one of the same size.
struct free_block {
  free_block* next;
};

struct heap;

/// The first bytes of every region. Each region serves one size, so that it
/// can go back to the OS once every block carved from it is free again.
struct region_header {
  heap* owner;
  std::uint32_t free_seen = 0;    // trim()'s count of its free blocks; 0 between trims
  region_header* next_released = nullptr;   // trim()'s list of regions to unmap
};

/// What a heap keeps for one size.
struct size_class {
  free_block* free = nullptr;
  char* bump = nullptr;   // the unused end of the size's newest region
  char* bump_end = nullptr;
  std::size_t frees_since_trim = 0;   // local frees: when to trim next
  std::size_t trim_at = 0;            // set by the first allocation
  std::uint32_t regions_mapped = 0;   // ever: a size that needs a second region is busy
  // The newest region may be resident past what bump has reached (a huge
  // page, or faulted in whole by new_region()) until a trim gives it back.
  bool resident_past_bump = false;
};

struct heap {
  size_class sizes[num_sizes];
  /// Blocks freed on other threads, one stack per size. One cache line
  /// each: the owner glances at the stack of one size while other threads
  /// push onto another's.
  struct alignas(64) remote_stack {
    std::atomic<free_block*> head{nullptr};
  };
  remote_stack remote[num_sizes];
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

void trim_heap(heap& h) noexcept;

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
    // Swallowed: out of memory; the heap is lost to reuse. Its blocks stay
    // valid, and frees of them still arrive on its remote stacks.
  }
}

struct heap_owner {
  heap_owner() = default;
  heap_owner(const heap_owner&) = delete;
  heap_owner& operator=(const heap_owner&) = delete;
  ~heap_owner() {
    heap* h = tls_heap;
    tls_heap = nullptr;
    tls_heap_gone = true;
    if (h) {
      trim_heap(*h);   // a thread's exit returns what it cached
      abandon_heap(h);
    }
  }
};

/// The first allocation on this thread: own a heap until the thread exits.
heap& this_thread_heap() {
  static thread_local heap_owner owner;
  (void)owner;
  tls_heap = adopt_heap();
  return *tls_heap;
}

/// Steps back from `block` to its region's start (pointer arithmetic rather
/// than an integer turned back into a pointer, which would lose the block's
/// provenance for the optimizer).
region_header* region_of(const void* block) noexcept {
  const std::size_t offset = reinterpret_cast<std::uintptr_t>(block) & (region_size - 1);
  return reinterpret_cast<region_header*>(static_cast<char*>(const_cast<void*>(block)) - offset);
}

heap* owner_of(const void* block) noexcept { return region_of(block)->owner; }

char* region_start(region_header* r) noexcept { return reinterpret_cast<char*>(r) + region_header_size; }

/// Maps a fresh region of blocks of `granules` for `h`: the size's bump area.
void new_region(heap& h, std::size_t granules) {
  size_class& sc = h.sizes[granules];
  void* raw = ::mmap(nullptr, 2 * region_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  // Keep the aligned region inside the mapping and unmap the rest (again by
  // pointer arithmetic on the mapping).
  const std::size_t misalignment = reinterpret_cast<std::uintptr_t>(raw) & (region_size - 1);
  const std::size_t lead = misalignment == 0 ? 0 : region_size - misalignment;
  char* region = static_cast<char*>(raw) + lead;
  if (lead != 0) ::munmap(raw, lead);
  if (const std::size_t tail = region_size - lead; tail != 0) ::munmap(region + region_size, tail);
  // A size that needs a second region is a busy spawner's: back the region
  // with one huge page where the kernel has one to give, and fault it in
  // with one call rather than 512 page faults. On a VM whose page faults
  // cost ~10 µs (bench/README, "The machine's floors") that was most of
  // spawn_throughput's time. The first region is left to fault page by
  // page, so that a thread that allocates one frame does not pay for 2 MiB.
  // Failure (an old kernel, THP off) only loses the head start.
  if (sc.regions_mapped++ != 0) {
    ::madvise(region, region_size, MADV_HUGEPAGE);
    ::madvise(region, region_size, MADV_POPULATE_WRITE);
  }
  ::new (region) region_header{&h};
  sc.bump = region + region_header_size;
  sc.bump_end = region + region_size;
  sc.resident_past_bump = true;
}

/// How many blocks have been carved from `r` (all of them unless it is the
/// size's bump region).
std::size_t carved_from(const size_class& sc, region_header* r, std::size_t bytes) noexcept {
  const bool is_current = sc.bump != nullptr && region_of(sc.bump - 1) == r;
  const char* end = is_current ? sc.bump : reinterpret_cast<char*>(r) + region_size;
  return static_cast<std::size_t>(end - region_start(r)) / bytes;
}

/// Returns to the OS every region of this size whose blocks are all free
/// (on the free list or the remote stack); the size's current region, if
/// all free, starts over and keeps only resident_after_trim of its memory.
/// O(blocks cached). Only the heap's owner (or, for an abandoned heap, the
/// holder of the abandoned list's lock) calls it.
void trim(heap& h, std::size_t granules) noexcept {
  size_class& sc = h.sizes[granules];
  const std::size_t bytes = granules * granule;
  // acquire: pairs with the release in free_task_memory (the blocks, and
  // whatever their last users wrote, are ours).
  free_block* remote = h.remote[granules].head.exchange(nullptr, std::memory_order_acquire);
  if (remote != nullptr) {
    free_block* last = remote;
    while (last->next != nullptr) last = last->next;
    last->next = sc.free;
    sc.free = remote;
  }
  for (free_block* b = sc.free; b != nullptr; b = b->next) ++region_of(b)->free_seen;

  region_header* released = nullptr;
  region_header* current = sc.bump != nullptr ? region_of(sc.bump - 1) : nullptr;
  bool reset_current = false;
  constexpr std::uint32_t gone = UINT32_MAX;   // free_seen of a region being released
  std::size_t kept = 0;
  free_block** link = &sc.free;
  for (free_block* b = sc.free; b != nullptr;) {
    free_block* next = b->next;
    region_header* r = region_of(b);
    if (r->free_seen != 0 && r->free_seen != gone && r->free_seen == carved_from(sc, r, bytes)) {
      r->free_seen = gone;   // decided: every block of r is free
      if (r == current) reset_current = true;
      else {
        r->next_released = released;
        released = r;
      }
    }
    if (r->free_seen == gone) {
      *link = next;   // dropped: its region goes
    } else {
      r->free_seen = 0;   // decided: kept (later blocks of r see 0, not its count)
      link = &b->next;
      ++kept;
    }
    b = next;
  }
  *link = nullptr;
  if (reset_current) {
    current->free_seen = 0;
    char* first = region_start(current);
    // From a page boundary (madvise refuses any other start) to the
    // region's end, not the bump: new_region() may have faulted in the
    // whole region. No huge page from now on: khugepaged would otherwise
    // fill the region back to a whole one within seconds (measured: 16
    // trimmed regions went 1 MB -> 33 MB resident in 15 s).
    char* const region = reinterpret_cast<char*>(current);
    char* const keep_end = region + resident_after_trim;
    // Nothing past keep_end to give back unless blocks were carved there
    // since the last trim: a worker that sleeps between small tasks would
    // otherwise pay two system calls (2.6 µs here) at every sleep.
    if (sc.bump > keep_end || sc.resident_past_bump) {
      ::madvise(region, region_size, MADV_NOHUGEPAGE);
      ::madvise(keep_end, region_size - resident_after_trim, MADV_DONTNEED);
      sc.resident_past_bump = false;
    }
    sc.bump = first;
  }
  while (released != nullptr) {
    region_header* r = released;
    released = r->next_released;
    ::munmap(r, region_size);
  }
  sc.frees_since_trim = 0;
  // A list pinned by live blocks is walked again only after as many frees.
  sc.trim_at = std::max(trim_interval_bytes / bytes, kept);
}

/// Trims every size that saw frees (local or remote) since its last trim.
void trim_heap(heap& h) noexcept {
  for (std::size_t g = 1; g < num_sizes; ++g) {
    // relaxed: a hint; trim() takes the stack with an acquire exchange.
    if (h.sizes[g].frees_since_trim != 0 || h.remote[g].head.load(std::memory_order_relaxed) != nullptr) trim(h, g);
  }
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
  free_block* b = h.sizes[granules].free;
  if (b) {
    h.sizes[granules].free = b->next;
    // The block after it was most likely freed on another core: start
    // fetching it now rather than when the next allocation needs it.
    prefetch_for_write(b->next);
  }
  return b;
}

/// The free list is empty: take what other threads freed, else carve.
void* allocate_slow(heap& h, std::size_t granules) {
  size_class& sc = h.sizes[granules];
  // relaxed: a hint, checked before paying for the exchange.
  if (h.remote[granules].head.load(std::memory_order_relaxed) != nullptr) {
    // acquire: pairs with the release in free_task_memory, so the blocks
    // (and whatever their last users wrote) are ours before we reuse them.
    sc.free = h.remote[granules].head.exchange(nullptr, std::memory_order_acquire);
    if (free_block* b = pop_free(h, granules)) return b;
  }
  const std::size_t bytes = granules * granule;
  if (static_cast<std::size_t>(sc.bump_end - sc.bump) < bytes) new_region(h, granules);
  if (sc.trim_at == 0) sc.trim_at = trim_interval_bytes / bytes;
  void* block = sc.bump;
  sc.bump += bytes;
  // Fresh memory comes from DRAM: ask for what the next few blocks will
  // need now, so that writing them does not wait.
  prefetch_for_write(sc.bump + 512);
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
    size_class& sc = owner->sizes[granules];
    sc.free = ::new (block) free_block{sc.free};
    if (++sc.frees_since_trim > sc.trim_at) trim(*owner, granules);
    return;
  }
  // release: pairs with the acquire in allocate_slow and trim (the owner
  // reuses the block only after our writes to it are done).
  std::atomic<free_block*>& head = owner->remote[granules].head;
  auto* b = ::new (block) free_block{head.load(std::memory_order_relaxed)};
  while (!head.compare_exchange_weak(b->next, b, std::memory_order_release, std::memory_order_relaxed)) {}
}

void trim_task_memory() noexcept {
  if (heap* h = tls_heap) trim_heap(*h);
}

void release_task_memory() noexcept {
  trim_task_memory();
  // Threads that exited trimmed their heaps then; blocks freed into them
  // since are on their remote stacks. Nobody owns these heaps: holding the
  // list's lock is owning them.
  abandoned_heaps& list = abandoned();
  std::lock_guard lock(list.mutex);
  for (heap* h : list.heaps) trim_heap(*h);
}

#endif

}  // namespace weft::detail

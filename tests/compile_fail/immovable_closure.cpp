// Must not compile: the closure can be neither moved nor copied into the runtime.
#include <weft/spawn.hpp>

#include <mutex>

struct holds_a_mutex {
  std::mutex m;
  int operator()() { return 1; }
};

weft::task<void> misuse() {
  holds_a_mutex f;
  auto h = weft::spawn_blocking(std::move(f));
  co_await h;
}

// Must not compile: the closure returns a task (async work inside spawn_blocking).
#include <weft/spawn.hpp>

weft::task<int> fetch() { co_return 1; }

weft::task<void> misuse() {
  auto h = weft::spawn_blocking([] { return fetch(); });
  co_await h;
}

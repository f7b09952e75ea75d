// Must not compile: a named pool has spawn_blocking's closure rules and messages.
#include <weft/pool.hpp>

weft::task<int> fetch() { co_return 1; }

weft::task<void> misuse(weft::blocking_pool db) {
  auto h = db.spawn([] { return fetch(); });
  co_await h;
}

// Must not compile: admit takes a closure callable as f() or f(std::stop_token).
#include <weft/pool.hpp>

weft::task<void> misuse(weft::blocking_pool db) {
  auto h = co_await db.admit(42);
  co_await h;
}

// Must not compile: the closure needs an argument spawn_blocking cannot give.
#include <weft/spawn.hpp>

weft::task<void> misuse() {
  auto h = weft::spawn_blocking([](int x) { return x; });
  co_await h;
}

// Must not compile: a coroutine lambda that co_awaits inside spawn_blocking
// (the C++ counterpart of Rust's E0728).
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include <chrono>

weft::task<void> misuse() {
  auto h = weft::spawn_blocking([]() -> weft::task<void> { co_await weft::sleep(std::chrono::milliseconds(1)); });
  co_await h;
}

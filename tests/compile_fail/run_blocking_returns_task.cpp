// Must not compile: run_blocking's closure returns a task (async work on a blocking thread).
#include <weft/combinators.hpp>

weft::task<int> fetch() { co_return 1; }

weft::task<void> misuse() {
  int local = 0;
  co_await weft::run_blocking([&] {
    ++local;
    return fetch();
  });
}

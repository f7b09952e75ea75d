// Must not compile: when_any with no operation could never complete.
#include <weft/combinators.hpp>

weft::task<void> misuse() { co_await weft::when_any(); }

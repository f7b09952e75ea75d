// SPDX-License-Identifier: MIT
// The seed's first example: read a file on the blocking pool and print its
// size, handling both layers of failure — the join layer (the closure threw
// or was cancelled) and the operation's own error (the file could not be read).
//
//   read_file [path]     (default: CMakeLists.txt)
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <expected>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

namespace {

/// A synchronous API, as a legacy library would offer it.
std::expected<std::string, std::error_code> read_to_string(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(std::error_code(errno, std::generic_category()));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

weft::task<int> run(std::string path) {
  // Move the path in: the closure owns its inputs.
  auto handle = weft::spawn_blocking([path = std::move(path)] { return read_to_string(path); });
  auto joined = co_await handle.join();
  if (!joined) {   // first layer: the blocking task itself failed
    std::fprintf(stderr, "blocking task failed: %s\n", joined.error().what());
    co_return 2;
  }
  auto text = std::move(*joined);
  if (!text) {     // second layer: the operation's own error
    std::fprintf(stderr, "cannot read: %s\n", text.error().message().c_str());
    co_return 1;
  }
  std::printf("%zu bytes\n", text->size());
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  weft::runtime rt;
  return rt.block_on(run(argc > 1 ? argv[1] : "CMakeLists.txt"));
}

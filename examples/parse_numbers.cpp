// SPDX-License-Identifier: MIT
// The seed's second example: parse "1,2,3,5,8" on the blocking pool into a
// vector; a parse error is the operation's own error, not a join error.
//
//   parse_numbers [text]   (default: 1,2,3,5,8)
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <expected>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

struct parse_error {
  std::string token;
  std::errc reason;
};

std::expected<std::vector<std::uint64_t>, parse_error> parse_numbers(const std::string& input) {
  std::vector<std::uint64_t> numbers;
  std::string_view rest = input;
  for (;;) {
    const std::string_view token = rest.substr(0, rest.find(','));
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (ec != std::errc{} || end != token.data() + token.size() || token.empty())
      return std::unexpected(parse_error{std::string(token), ec == std::errc{} ? std::errc::invalid_argument : ec});
    numbers.push_back(value);
    if (token.size() == rest.size()) return numbers;
    rest.remove_prefix(token.size() + 1);
  }
}

weft::task<int> run(std::string input) {
  auto handle = weft::spawn_blocking([input = std::move(input)] { return parse_numbers(input); });
  auto joined = co_await handle.join();
  if (!joined) {
    std::fprintf(stderr, "blocking parser failed: %s\n", joined.error().what());
    co_return 2;
  }
  if (!*joined) {
    const parse_error& e = joined->error();
    std::fprintf(stderr, "not a number: '%s' (%s)\n", e.token.c_str(),
                 std::make_error_code(e.reason).message().c_str());
    co_return 1;
  }
  std::printf("[");
  const char* sep = "";
  for (std::uint64_t n : **joined) {
    std::printf("%s%llu", sep, static_cast<unsigned long long>(n));
    sep = ", ";
  }
  std::printf("]\n");
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  weft::runtime rt;
  return rt.block_on(run(argc > 1 ? argv[1] : "1,2,3,5,8"));
}

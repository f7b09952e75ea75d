// SPDX-License-Identifier: MIT
// Runs a command with a time limit and streams its output as it comes: the
// child's stdout and stderr are pipes read by two tasks, its exit is awaited
// with weft::timeout, and a child that overruns is killed.
//
//   run_command <seconds> <program> [args...]
//   e.g.  run_command 2 sh -c 'for i in 1 2 3; do echo $i; sleep 1; done'
#include <weft/process.hpp>
#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include <array>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <ostream>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

/// Copies a child's pipe to `out` chunk by chunk until EOF.
weft::task<void> pump(weft::process::child_output pipe, std::ostream* out) {
  std::array<std::byte, 4096> chunk;
  for (;;) {
    const std::size_t n = co_await pipe.read(chunk);
    if (n == 0) co_return;
    out->write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(n));
    out->flush();
  }
}

std::string describe(const weft::process::exit_status& status) {
  if (status.code) return "exit code " + std::to_string(*status.code);
  return "killed by signal " + std::to_string(status.signal.value_or(0));
}

weft::task<int> run(std::chrono::nanoseconds limit, std::string program, std::vector<std::string> args) {
  weft::process::command cmd(program);
  cmd.args(std::move(args))
      .set_stdin(weft::process::stdio::null)
      .set_stdout(weft::process::stdio::piped)
      .set_stderr(weft::process::stdio::piped);
  weft::process::child child = cmd.spawn();   // std::system_error at once if there is no such program
  auto out = weft::spawn(pump(*child.take_stdout(), &std::cout));
  auto err = weft::spawn(pump(*child.take_stderr(), &std::cerr));

  auto finished = co_await weft::timeout(limit, child.wait());
  weft::process::exit_status status;
  if (finished) {
    status = *finished;
    // The pipes reach EOF once the child has exited — unless a process it
    // started still holds them: give the pumps a moment, then stop them.
    (void)co_await weft::timeout(1s, out.join());
    (void)co_await weft::timeout(1s, err.join());
  } else {
    std::cout << "run_command: timed out; killing " << program << " (pid " << child.id() << ")" << std::endl;
    child.kill();
    status = co_await child.wait();
  }
  out.abort();
  err.abort();
  std::cout << "run_command: " << program << ": " << describe(status) << std::endl;
  co_return status.success() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: run_command <seconds> <program> [args...]\n";
    return 2;
  }
  char* end = nullptr;
  const double seconds = std::strtod(argv[1], &end);
  if (end == argv[1] || *end != '\0' || !(seconds >= 0)) {
    std::cerr << "run_command: not a number of seconds: " << argv[1] << '\n';
    return 2;
  }
  const auto limit = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds));
  try {
    weft::runtime rt;
    return rt.block_on(run(limit, argv[2], std::vector<std::string>(argv + 3, argv + argc)));
  } catch (const std::exception& e) {
    std::cerr << "run_command: " << e.what() << '\n';
    return 1;
  }
}

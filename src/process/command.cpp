// SPDX-License-Identifier: MIT
// weft::process::command: the builder, and output() / status(), which copy
// the command into their task (a lazy task would otherwise read a temporary
// command after it was gone).
#include <weft/process.hpp>

#include <weft/join_handle.hpp>
#include <weft/spawn.hpp>

#include <array>
#include <utility>

namespace weft::process {

command::command(std::string program) : program_(std::move(program)) {}

command& command::arg(std::string argument) {
  args_.push_back(std::move(argument));
  return *this;
}

command& command::args(std::vector<std::string> arguments) {
  for (std::string& a : arguments) args_.push_back(std::move(a));
  return *this;
}

command& command::env(std::string key, std::string value) {
  env_.emplace_back(std::move(key), std::move(value));
  return *this;
}

command& command::env_clear() {
  env_clear_ = true;
  env_.clear();
  return *this;
}

command& command::current_dir(std::filesystem::path dir) {
  dir_ = std::move(dir);
  return *this;
}

command& command::set_stdin(stdio how) {
  stdin_ = how;
  return *this;
}

command& command::set_stdout(stdio how) {
  stdout_ = how;
  return *this;
}

command& command::set_stderr(stdio how) {
  stderr_ = how;
  return *this;
}

namespace {

task<std::string> read_to_end(child_output pipe) {
  std::string out;
  std::array<std::byte, std::size_t{64} * 1024> chunk;
  for (;;) {
    const std::size_t n = co_await pipe.read(chunk);
    if (n == 0) co_return out;
    out.append(reinterpret_cast<const char*>(chunk.data()), n);
  }
}

/// Aborts the stderr reader if output() is cancelled (it is detached otherwise).
class abort_on_exit {
public:
  explicit abort_on_exit(join_handle<std::string>& h) noexcept : h_(h) {}
  abort_on_exit(const abort_on_exit&) = delete;
  abort_on_exit& operator=(const abort_on_exit&) = delete;
  ~abort_on_exit() { h_.abort(); }

private:
  join_handle<std::string>& h_;
};

task<captured_output> run_for_output(command cmd) {
  child c = cmd.spawn();
  std::optional<child_output> out = c.take_stdout();
  std::optional<child_output> err = c.take_stderr();
  captured_output result;
  // stderr on its own task while this one reads stdout: a child that fills
  // one pipe while we block on the other would otherwise never finish.
  std::optional<join_handle<std::string>> err_reader;
  if (err) err_reader.emplace(spawn(read_to_end(std::move(*err))));
  std::optional<abort_on_exit> guard;
  if (err_reader) guard.emplace(*err_reader);
  if (out) result.stdout_data = co_await read_to_end(std::move(*out));
  if (err_reader) result.stderr_data = co_await *err_reader;
  result.status = co_await c.wait();
  co_return result;
}

task<exit_status> run_for_status(command cmd) {
  child c = cmd.spawn();
  co_return co_await c.wait();
}

}  // namespace

task<captured_output> command::output() const {
  command copy = *this;
  if (!copy.stdin_) copy.stdin_ = stdio::null;
  if (!copy.stdout_) copy.stdout_ = stdio::piped;
  if (!copy.stderr_) copy.stderr_ = stdio::piped;
  return run_for_output(std::move(copy));
}

task<exit_status> command::status() const { return run_for_status(*this); }

}  // namespace weft::process

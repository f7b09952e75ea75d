// SPDX-License-Identifier: MIT
// weft::fs, the async half: each call is one spawn_blocking job running the
// matching body from file_ops.cpp, awaited by the caller's task.
//
// The closures own what they use: the path (a coroutine parameter, moved
// out of the frame) and, for write, a copy of the bytes made when write()
// is called — write is a plain function that copies, then returns the
// coroutine, because a lazy task would otherwise read a string_view only
// when first awaited, after a temporary string had gone.
//
// g++ 12 destroys a capturing lambda temporary inside a co_await expression
// twice (STYLE §10), so every job handle is named before it is awaited.
#include "blocking/abort_if_unstarted.hpp"
#include "fs/file_ops.hpp"

#include <weft/fs.hpp>
#include <weft/join_handle.hpp>
#include <weft/spawn.hpp>

#include <utility>

namespace weft::fs {

namespace {

task<void> write_owned(std::filesystem::path path, std::vector<std::byte> bytes) {
  auto job = spawn_blocking(
      [path = std::move(path), bytes = std::move(bytes)] { detail::write_file("weft::fs::write", path, bytes); });
  detail::abort_if_unstarted guard(job);
  co_await job;
}

}  // namespace

task<std::string> read_to_string(std::filesystem::path path) {
  auto job =
      spawn_blocking([path = std::move(path)] { return detail::read_file_text("weft::fs::read_to_string", path); });
  detail::abort_if_unstarted guard(job);
  co_return co_await job;
}

task<std::vector<std::byte>> read(std::filesystem::path path) {
  auto job = spawn_blocking([path = std::move(path)] { return detail::read_file_bytes("weft::fs::read", path); });
  detail::abort_if_unstarted guard(job);
  co_return co_await job;
}

task<void> write(std::filesystem::path path, std::span<const std::byte> contents) {
  return write_owned(std::move(path), std::vector<std::byte>(contents.begin(), contents.end()));
}

task<void> write(std::filesystem::path path, std::string_view contents) {
  const auto* first = reinterpret_cast<const std::byte*>(contents.data());
  return write_owned(std::move(path), std::vector<std::byte>(first, first + contents.size()));
}

task<void> create_dir_all(std::filesystem::path path) {
  auto job = spawn_blocking([path = std::move(path)] { detail::create_dirs("weft::fs::create_dir_all", path); });
  detail::abort_if_unstarted guard(job);
  co_await job;
}

task<void> remove_file(std::filesystem::path path) {
  auto job = spawn_blocking([path = std::move(path)] { detail::unlink_file("weft::fs::remove_file", path); });
  detail::abort_if_unstarted guard(job);
  co_await job;
}

task<void> rename(std::filesystem::path from, std::filesystem::path to) {
  auto job = spawn_blocking(
      [from = std::move(from), to = std::move(to)] { detail::rename_path("weft::fs::rename", from, to); });
  detail::abort_if_unstarted guard(job);
  co_await job;
}

task<file_metadata> metadata(std::filesystem::path path) {
  auto job = spawn_blocking([path = std::move(path)] { return detail::stat_path("weft::fs::metadata", path); });
  detail::abort_if_unstarted guard(job);
  co_return co_await job;
}

task<std::vector<std::filesystem::directory_entry>> read_dir(std::filesystem::path path) {
  auto job = spawn_blocking([path = std::move(path)] { return detail::list_dir("weft::fs::read_dir", path); });
  detail::abort_if_unstarted guard(job);
  co_return co_await job;
}

}  // namespace weft::fs

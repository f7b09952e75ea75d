// SPDX-License-Identifier: MIT
#include <weft/fs.hpp>   // first: proves the header is self-contained

#include <weft/runtime.hpp>
#include <weft/spawn.hpp>
#include <weft/time.hpp>

#include "weft_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <latch>
#include <memory>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace {

using namespace std::chrono_literals;
using weft::task;
namespace stdfs = std::filesystem;

/// A fresh directory under /tmp (mkdtemp) per test, removed afterwards.
class Fs : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern = "/tmp/weft_fs_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    stdfs::remove_all(dir_, ignored);
  }

  /// Runs `body` on a fresh runtime.
  template <class T>
  T run(task<T> body) {
    auto rt = weft::runtime::builder::multi_thread().worker_threads(2).build();
    return rt.block_on(std::move(body));
  }

  static void put(const stdfs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

  stdfs::path dir_;
};

/// Awaits `op` and reports the filesystem_error it must throw.
template <class T>
task<stdfs::filesystem_error> failure_of(task<T> op) {
  try {
    co_await std::move(op);
  } catch (const stdfs::filesystem_error& e) {
    co_return e;
  }
  ADD_FAILURE() << "no filesystem_error was thrown";
  co_return stdfs::filesystem_error("none", std::error_code());
}

void expect_failure(const stdfs::filesystem_error& e, std::errc code, const stdfs::path& path1) {
  EXPECT_EQ(e.code(), std::make_error_code(code)) << e.what();
  EXPECT_EQ(&e.code().category(), &std::generic_category());
  EXPECT_EQ(e.path1(), path1) << e.what();
}

TEST_F(Fs, WriteThenReadToStringRoundTrips) {
  const stdfs::path file = dir_ / "a.txt";
  auto body = [](stdfs::path p) -> task<std::string> {
    co_await weft::fs::write(p, "hello\nworld");
    co_return co_await weft::fs::read_to_string(p);
  };
  EXPECT_EQ(run(body(file)), "hello\nworld");
}

TEST_F(Fs, WriteCopiesATemporaryStringBeforeSuspending) {
  const stdfs::path file = dir_ / "temp.txt";
  auto body = [](stdfs::path p) -> task<std::string> {
    auto pending = weft::fs::write(p, std::string(100'000, 'x'));   // the string dies here
    std::string other(100'000, 'y');                                 // and may reuse its memory
    co_await std::move(pending);
    co_return co_await weft::fs::read_to_string(p);
  };
  EXPECT_EQ(run(body(file)), std::string(100'000, 'x'));
}

TEST_F(Fs, WriteBytesAndReadBytesKeepEveryByteAndTruncate) {
  const stdfs::path file = dir_ / "bin";
  put(file, std::string(5000, 'z'));   // longer than what is written: must be truncated
  auto body = [](stdfs::path p) -> task<std::vector<std::byte>> {
    std::vector<std::byte> bytes;
    for (int i = 0; i < 1000; ++i) bytes.push_back(static_cast<std::byte>(i % 256));
    co_await weft::fs::write(p, bytes);
    co_return co_await weft::fs::read(p);
  };
  const std::vector<std::byte> got = run(body(file));
  ASSERT_EQ(got.size(), 1000u);
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], static_cast<std::byte>(i % 256));
}

TEST_F(Fs, ReadsLargeAndEmptyFilesAndProcFiles) {
  put(dir_ / "big", std::string(3 << 20, 'q'));
  put(dir_ / "empty", "");
  auto body = [](stdfs::path d) -> task<bool> {
    const std::string big = co_await weft::fs::read_to_string(d / "big");
    const std::string empty = co_await weft::fs::read_to_string(d / "empty");
    const std::string proc = co_await weft::fs::read_to_string("/proc/self/status");   // st_size 0
    co_return big == std::string(3 << 20, 'q') && empty.empty() && proc.find("Name:") != std::string::npos;
  };
  EXPECT_TRUE(run(body(dir_)));
}

TEST_F(Fs, EachCallRunsOnTheBlockingPool) {
  put(dir_ / "f", "x");
  auto body = [](stdfs::path d) -> task<std::uint64_t> {
    auto spawned = [] { return weft::handle::current().metrics().spawned_blocking_tasks; };
    const std::uint64_t before = spawned();
    co_await weft::fs::read_to_string(d / "f");
    co_await weft::fs::read(d / "f");
    co_await weft::fs::write(d / "g", "y");
    co_await weft::fs::create_dir_all(d / "sub");
    co_await weft::fs::rename(d / "g", d / "h");
    co_await weft::fs::metadata(d / "h");
    co_await weft::fs::read_dir(d);
    co_await weft::fs::remove_file(d / "h");
    co_return spawned() - before;
  };
  EXPECT_EQ(run(body(dir_)), 8u);
}

TEST_F(Fs, CreateDirAllMakesParentsAndAcceptsAnExistingDirectory) {
  const stdfs::path deep = dir_ / "a" / "b" / "c";
  auto body = [](stdfs::path p) -> task<void> {
    co_await weft::fs::create_dir_all(p);
    co_await weft::fs::create_dir_all(p);
  };
  run(body(deep));
  EXPECT_TRUE(stdfs::is_directory(deep));
}

TEST_F(Fs, RemoveFileAndRename) {
  put(dir_ / "from", "data");
  put(dir_ / "victim", "old");
  auto body = [](stdfs::path d) -> task<std::string> {
    co_await weft::fs::rename(d / "from", d / "victim");   // replaces a file
    co_await weft::fs::remove_file(d / "from2");            // never exists: must throw
    co_return "";
  };
  EXPECT_THROW(run(body(dir_)), stdfs::filesystem_error);
  EXPECT_FALSE(stdfs::exists(dir_ / "from"));
  std::ifstream in(dir_ / "victim");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "data");
  auto remove = [](stdfs::path p) -> task<void> { co_await weft::fs::remove_file(p); };
  run(remove(dir_ / "victim"));
  EXPECT_FALSE(stdfs::exists(dir_ / "victim"));
}

TEST_F(Fs, MetadataDescribesFilesAndDirectories) {
  put(dir_ / "f", std::string(1234, 'm'));
  auto body = [](stdfs::path d) -> task<std::pair<weft::fs::file_metadata, weft::fs::file_metadata>> {
    weft::fs::file_metadata file = co_await weft::fs::metadata(d / "f");
    weft::fs::file_metadata dir = co_await weft::fs::metadata(d);
    co_return std::pair{file, dir};
  };
  const auto [file, dir] = run(body(dir_));
  EXPECT_TRUE(file.is_file());
  EXPECT_FALSE(file.is_dir());
  EXPECT_EQ(file.size, 1234u);
  EXPECT_TRUE(dir.is_dir());
  EXPECT_EQ(dir.permissions, stdfs::perms::owner_all);   // mkdtemp makes it 0700
  // In system_clock's resolution: nanoseconds with libstdc++, microseconds with libc++.
  const auto expected = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      std::chrono::file_clock::to_sys(stdfs::last_write_time(dir_ / "f")));
  EXPECT_EQ(file.modified, expected);
  EXPECT_LT(std::chrono::system_clock::now() - file.modified, 1min);
}

TEST_F(Fs, ReadDirListsEntriesWithoutDotAndDotDot) {
  put(dir_ / "one", "1");
  put(dir_ / "two", "2");
  stdfs::create_directory(dir_ / "sub");
  auto body = [](stdfs::path d) -> task<std::vector<stdfs::directory_entry>> {
    co_return co_await weft::fs::read_dir(d);
  };
  std::vector<std::string> names;
  for (const auto& entry : run(body(dir_))) {
    names.push_back(entry.path().filename().string());
    EXPECT_EQ(entry.is_directory(), names.back() == "sub");
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"one", "sub", "two"}));
}

// -- failures: type, errno and path ---------------------------------------------

TEST_F(Fs, EveryCallReportsAMissingPath) {
  const stdfs::path missing = dir_ / "missing";
  using factory = std::function<task<void>(stdfs::path)>;
  const std::vector<std::pair<const char*, factory>> calls = {
      {"read_to_string", [](stdfs::path p) -> task<void> { co_await weft::fs::read_to_string(p); }},
      {"read", [](stdfs::path p) -> task<void> { co_await weft::fs::read(p); }},
      {"remove_file", [](stdfs::path p) -> task<void> { co_await weft::fs::remove_file(p); }},
      {"metadata", [](stdfs::path p) -> task<void> { co_await weft::fs::metadata(p); }},
      {"read_dir", [](stdfs::path p) -> task<void> { co_await weft::fs::read_dir(p); }},
      {"rename", [](stdfs::path p) -> task<void> { co_await weft::fs::rename(p, p.parent_path() / "to"); }},
      {"write", [](stdfs::path p) -> task<void> { co_await weft::fs::write(p / "child", "x"); }},
  };
  for (const auto& [name, make] : calls) {
    SCOPED_TRACE(name);
    const stdfs::filesystem_error e = run(failure_of(make(missing)));
    expect_failure(e, std::errc::no_such_file_or_directory, std::string(name) == "write" ? missing / "child" : missing);
    EXPECT_NE(std::string(e.what()).find(std::string("weft::fs::") + name), std::string::npos) << e.what();
  }
}

TEST_F(Fs, ReadingADirectoryIsEisdir) {
  const stdfs::filesystem_error e = run(failure_of(weft::fs::read_to_string(dir_)));
  expect_failure(e, std::errc::is_a_directory, dir_);
}

TEST_F(Fs, RemoveFileOnADirectoryIsEisdir) {
  stdfs::create_directory(dir_ / "d");
  const stdfs::filesystem_error e = run(failure_of(weft::fs::remove_file(dir_ / "d")));
  expect_failure(e, std::errc::is_a_directory, dir_ / "d");
  EXPECT_TRUE(stdfs::is_directory(dir_ / "d"));
}

TEST_F(Fs, RenameOntoADirectoryNamesBothPaths) {
  put(dir_ / "file", "x");
  stdfs::create_directory(dir_ / "d");
  const stdfs::filesystem_error e = run(failure_of(weft::fs::rename(dir_ / "file", dir_ / "d")));
  expect_failure(e, std::errc::is_a_directory, dir_ / "file");
  EXPECT_EQ(e.path2(), dir_ / "d");
}

TEST_F(Fs, ReadDirOnAFileIsEnotdir) {
  put(dir_ / "file", "x");
  const stdfs::filesystem_error e = run(failure_of(weft::fs::read_dir(dir_ / "file")));
  expect_failure(e, std::errc::not_a_directory, dir_ / "file");
}

TEST_F(Fs, CreateDirAllThroughAFileFails) {
  put(dir_ / "file", "x");
  const stdfs::filesystem_error e = run(failure_of(weft::fs::create_dir_all(dir_ / "file" / "sub")));
  expect_failure(e, std::errc::not_a_directory, dir_ / "file" / "sub");
  // The path itself a file: libstdc++'s create_directories says ENOTDIR (mkdir -p: EEXIST).
  const stdfs::filesystem_error exists = run(failure_of(weft::fs::create_dir_all(dir_ / "file")));
  expect_failure(exists, std::errc::not_a_directory, dir_ / "file");
}

TEST_F(Fs, WriteOntoADirectoryIsEisdir) {
  const stdfs::filesystem_error e = run(failure_of(weft::fs::write(dir_, "x")));
  expect_failure(e, std::errc::is_a_directory, dir_);
}

TEST_F(Fs, WriteIntoAReadOnlyDirectoryIsEacces) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  stdfs::create_directory(dir_ / "ro");
  stdfs::permissions(dir_ / "ro", stdfs::perms::owner_read | stdfs::perms::owner_exec);
  const stdfs::filesystem_error e = run(failure_of(weft::fs::write(dir_ / "ro" / "f", "x")));
  expect_failure(e, std::errc::permission_denied, dir_ / "ro" / "f");
  stdfs::permissions(dir_ / "ro", stdfs::perms::owner_all);
}

// -- cancellation ------------------------------------------------------------------

TEST_F(Fs, AWriteCancelledBeforeItStartsNeverHappens) {
  auto rt = weft::runtime::builder::multi_thread().worker_threads(2).max_blocking_threads(1).build();
  auto gate = std::make_shared<std::latch>(1);
  auto body = [](std::shared_ptr<std::latch> g, stdfs::path p) -> task<bool> {
    auto started = std::make_shared<std::atomic<bool>>(false);
    auto occupier = weft::spawn_blocking([g, started] {   // holds the only pool thread
      started->store(true);
      g->wait();
    });
    while (!started->load()) co_await weft::sleep(1ms);
    auto writer = weft::spawn(weft::fs::write(p, "never"));
    const bool queued =
        weft::test::eventually([] { return weft::handle::current().metrics().blocking_queue_depth == 1; });
    writer.abort();   // its frame goes, and with it the queued job
    auto result = co_await writer.join();
    g->count_down();
    co_await occupier;
    co_await weft::sleep(10ms);   // a job that escaped the abort would run now
    co_return queued && !result && result.error().is_cancelled();
  };
  EXPECT_TRUE(rt.block_on(body(gate, dir_ / "f")));
  EXPECT_FALSE(stdfs::exists(dir_ / "f"));
}

// Issue 10, item 8: c_str() ends a path at its first NUL, so "dir/a\0b"
// used to open, overwrite or remove dir/a. Every call refuses it with
// EINVAL, as Rust does, and leaves dir/a alone.
TEST_F(Fs, EveryCallRejectsAPathWithAnEmbeddedNul) {
  const stdfs::path a = dir_ / "a";
  put(a, "keep");
  const stdfs::path bad = (dir_ / "a").native() + std::string("\0b", 2);
  using factory = std::function<task<void>(stdfs::path)>;
  const std::vector<std::pair<const char*, factory>> calls = {
      {"read_to_string", [](stdfs::path p) -> task<void> { co_await weft::fs::read_to_string(p); }},
      {"read", [](stdfs::path p) -> task<void> { co_await weft::fs::read(p); }},
      {"write", [](stdfs::path p) -> task<void> { co_await weft::fs::write(p, "overwritten"); }},
      {"create_dir_all", [](stdfs::path p) -> task<void> { co_await weft::fs::create_dir_all(p); }},
      {"remove_file", [](stdfs::path p) -> task<void> { co_await weft::fs::remove_file(p); }},
      {"metadata", [](stdfs::path p) -> task<void> { co_await weft::fs::metadata(p); }},
      {"read_dir", [](stdfs::path p) -> task<void> { co_await weft::fs::read_dir(p); }},
      {"rename", [](stdfs::path p) -> task<void> { co_await weft::fs::rename(p, p.parent_path() / "to"); }},
      {"rename to", [](stdfs::path p) -> task<void> { co_await weft::fs::rename(p.parent_path() / "a", p); }},
  };
  for (const auto& [name, make] : calls) {
    SCOPED_TRACE(name);
    const stdfs::filesystem_error e = run(failure_of(make(bad)));
    EXPECT_EQ(e.code(), std::make_error_code(std::errc::invalid_argument)) << e.what();
    EXPECT_TRUE(e.path1() == bad || e.path2() == bad) << e.what();
  }
  std::ifstream in(a);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "keep");
  EXPECT_FALSE(stdfs::exists(dir_ / "to"));
}

}  // namespace

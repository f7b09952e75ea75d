// SPDX-License-Identifier: MIT
// weft::fs, the blocking half: plain POSIX calls, run on a blocking-pool
// thread by the coroutines in fs.cpp.
//
// Why POSIX and not iostreams: a stream failure loses errno, and the public
// contract is a filesystem_error carrying it. Where std::filesystem already
// reports an error_code (create_directories, directory_iterator), it is
// used as is; its codes are in std::generic_category, so ours are too, and
// a caller can compare either against std::errc.
//
// Every call retries EINTR (a signal handler may interrupt a slow device or
// NFS read) except close(2): Linux releases the descriptor even when close
// is interrupted, so retrying could close a descriptor another thread just
// opened.
#include "fs/file_ops.hpp"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace weft::detail {

namespace {

[[noreturn]] void fail(const char* op, const std::filesystem::path& path, std::error_code code) {
  throw std::filesystem::filesystem_error(op, path, code);
}

/// Throws for the errno `err`; callers read errno first, before anything
/// (even building the exception) can overwrite it.
[[noreturn]] void fail(const char* op, const std::filesystem::path& path, int err) {
  fail(op, path, std::error_code(err, std::generic_category()));
}

/// A path with an embedded NUL cannot be given to the OS: c_str() would end
/// it early and name another file ("dir/a\0b" -> "dir/a"). Refused, as Rust
/// does, with EINVAL.
void reject_nul(const char* op, const std::filesystem::path& path) {
  if (path.native().find('\0') != std::filesystem::path::string_type::npos) fail(op, path, EINVAL);
}

/// Closes the descriptor on every path out of a read or write.
class file_descriptor {
public:
  explicit file_descriptor(int fd) noexcept : fd_(fd) {}
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;
  ~file_descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  /// Closes now and gives close's errno (0 if it succeeded or was interrupted).
  int close() noexcept {
    const int rc = ::close(std::exchange(fd_, -1));
    return rc == 0 || errno == EINTR ? 0 : errno;
  }

private:
  int fd_;
};

file_descriptor open_file(const char* op, const std::filesystem::path& path, int flags, mode_t mode = 0) {
  reject_nul(op, path);
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail(op, path, errno);
  return file_descriptor(fd);
}

/// Reads to end of file into a std::string or std::vector<std::byte>.
template <class Buffer>
Buffer read_all(const char* op, const std::filesystem::path& path) {
  file_descriptor file = open_file(op, path, O_RDONLY);
  // Size the buffer from fstat, plus one byte so the read that sees end of
  // file needs no growth. Files that report 0 (/proc, pipes) start at 8 KiB.
  struct stat st{};
  std::size_t capacity = 8192;
  if (::fstat(file.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
    capacity = static_cast<std::size_t>(st.st_size) + 1;
  Buffer out(capacity, typename Buffer::value_type{});
  std::size_t used = 0;
  for (;;) {
    if (used == out.size()) out.resize(out.size() * 2);
    const ssize_t n = ::read(file.get(), out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(op, path, errno);   // e.g. EISDIR: open(2) accepts a directory
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  out.resize(used);
  return out;
}

std::filesystem::file_type type_of(mode_t mode) noexcept {
  using std::filesystem::file_type;
  if (S_ISREG(mode)) return file_type::regular;
  if (S_ISDIR(mode)) return file_type::directory;
  if (S_ISLNK(mode)) return file_type::symlink;
  if (S_ISBLK(mode)) return file_type::block;
  if (S_ISCHR(mode)) return file_type::character;
  if (S_ISFIFO(mode)) return file_type::fifo;
  if (S_ISSOCK(mode)) return file_type::socket;
  return file_type::unknown;
}

}  // namespace

std::string read_file_text(const char* op, const std::filesystem::path& path) {
  return read_all<std::string>(op, path);
}

std::vector<std::byte> read_file_bytes(const char* op, const std::filesystem::path& path) {
  return read_all<std::vector<std::byte>>(op, path);
}

void write_file(const char* op, const std::filesystem::path& path, std::span<const std::byte> contents) {
  file_descriptor file = open_file(op, path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  while (!contents.empty()) {
    const ssize_t n = ::write(file.get(), contents.data(), contents.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(op, path, errno);   // e.g. ENOSPC
    }
    contents = contents.subspan(static_cast<std::size_t>(n));
  }
  // NFS and some FUSE file systems report a failed write-back only here.
  if (const int err = file.close(); err != 0) fail(op, path, err);
}

void create_dirs(const char* op, const std::filesystem::path& path) {
  reject_nul(op, path);
  std::error_code code;
  std::filesystem::create_directories(path, code);
  // A non-directory at `path`: libstdc++ says ENOTDIR, libc++ EEXIST. One answer on both.
  if (code == std::errc::file_exists) code = std::make_error_code(std::errc::not_a_directory);
  if (code) fail(op, path, code);
}

void unlink_file(const char* op, const std::filesystem::path& path) {
  reject_nul(op, path);
  if (::unlink(path.c_str()) != 0) fail(op, path, errno);
}

void rename_path(const char* op, const std::filesystem::path& from, const std::filesystem::path& to) {
  for (const auto* path : {&from, &to}) {
    if (path->native().find('\0') != std::filesystem::path::string_type::npos)
      throw std::filesystem::filesystem_error(op, from, to, std::make_error_code(std::errc::invalid_argument));
  }
  if (::rename(from.c_str(), to.c_str()) != 0) {
    const int err = errno;
    throw std::filesystem::filesystem_error(op, from, to, std::error_code(err, std::generic_category()));
  }
}

fs::file_metadata stat_path(const char* op, const std::filesystem::path& path) {
  reject_nul(op, path);
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) fail(op, path, errno);
  fs::file_metadata meta;
  meta.type = type_of(st.st_mode);
  meta.permissions = static_cast<std::filesystem::perms>(st.st_mode & 07777);
  meta.size = static_cast<std::uintmax_t>(st.st_size);
  const auto since_epoch = std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  meta.modified = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
  return meta;
}

std::vector<std::filesystem::directory_entry> list_dir(const char* op, const std::filesystem::path& path) {
  reject_nul(op, path);
  std::error_code code;
  std::filesystem::directory_iterator it(path, code);
  if (code) fail(op, path, code);
  std::vector<std::filesystem::directory_entry> entries;
  for (const std::filesystem::directory_iterator end; it != end;) {
    entries.push_back(*it);
    it.increment(code);
    if (code) fail(op, path, code);
  }
  return entries;
}

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
// The synchronous bodies of weft::fs, run on a blocking-pool thread. Each
// throws std::filesystem::filesystem_error naming its path, with the errno
// in std::generic_category; `op` is the public name put in what().

#include <weft/fs.hpp>

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace weft::detail {

std::string read_file_text(const char* op, const std::filesystem::path& path);
std::vector<std::byte> read_file_bytes(const char* op, const std::filesystem::path& path);
void write_file(const char* op, const std::filesystem::path& path, std::span<const std::byte> contents);
void create_dirs(const char* op, const std::filesystem::path& path);
void unlink_file(const char* op, const std::filesystem::path& path);
void rename_path(const char* op, const std::filesystem::path& from, const std::filesystem::path& to);
fs::file_metadata stat_path(const char* op, const std::filesystem::path& path);
std::vector<std::filesystem::directory_entry> list_dir(const char* op, const std::filesystem::path& path);

}  // namespace weft::detail

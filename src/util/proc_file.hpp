// SPDX-License-Identifier: MIT
#pragma once
// Reads a small kernel-made file (/proc) whole in one read: what the load
// readings (cpu_load.hpp, spin_pause.hpp) parse.
#include <optional>
#include <span>
#include <string_view>

namespace weft::detail {

/// Opens `path`, reads once into `buffer` and closes: the text read (at most
/// buffer.size() bytes: /proc files are made whole by that one read), or
/// nullopt if the file cannot be opened or read or is empty. No descriptor is
/// kept. ~5 µs for the short /proc files.
std::optional<std::string_view> read_proc_file(const char* path, std::span<char> buffer) noexcept;

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
// The byte-stream operations tcp_stream and unix_stream share: each is one
// async_io loop (io/async_io.hpp) around recv or send on the stream's socket.
// `what` names the public operation in errors and must be a string literal.
// The returned task keeps `io` (the coroutines take it by pointer, as their
// frame holds it): the stream must outlive it.
#include <weft/net.hpp>

#include <cstddef>
#include <span>

namespace weft::detail {

task<std::size_t> stream_read(const io_object& io, std::span<std::byte> buffer, const char* what);
/// send(..., MSG_NOSIGNAL): a closed peer gives EPIPE, never SIGPIPE.
task<std::size_t> stream_write(const io_object& io, std::span<const std::byte> bytes, const char* what);
/// Errors: an early EOF is std::errc::connection_reset, "<what>: unexpected eof after N of M bytes".
task<void> stream_read_exact(const io_object* io, std::span<std::byte> buffer, const char* what);
task<void> stream_write_all(const io_object* io, std::span<const std::byte> bytes, const char* what);
/// shutdown(SHUT_WR). Errors: std::system_error with the errno.
void stream_shutdown_write(const io_object& io, const char* what);

/// A task that is already done with `value` (for an empty buffer).
task<std::size_t> ready_size(std::size_t value);

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
// weft::channel_closed. Out of line so that its vtable and type info live in
// one object file and the exception is caught by type across libraries.
#include <weft/channel_closed.hpp>

namespace weft {

channel_closed::channel_closed()
    : std::runtime_error("weft: channel closed: the sender was destroyed without sending") {}

channel_closed::~channel_closed() = default;

}  // namespace weft

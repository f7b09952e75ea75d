// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// `weft::channel_closed`: the error of awaiting a value that can no longer
/// come, because the other end of the channel was destroyed.

#include <stdexcept>

namespace weft {

/// Thrown by `co_await std::move(rx)` on a oneshot receiver whose sender was
/// destroyed without sending.
///
/// what(): "weft: channel closed: the sender was destroyed without sending".
class channel_closed : public std::runtime_error {
public:
  channel_closed();
  ~channel_closed() override;
};

}  // namespace weft

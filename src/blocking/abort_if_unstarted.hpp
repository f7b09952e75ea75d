// SPDX-License-Identifier: MIT
#pragma once
#include <weft/join_handle.hpp>

namespace weft::detail {

/// For an async operation built on a blocking job (fs, lookup_host): if the
/// awaiting frame is destroyed before a pool thread takes the job, the job
/// never runs (join_handle::abort); aborting a job that started or finished
/// changes nothing, so the guard need not know which.
template <class R>
class abort_if_unstarted {
public:
  explicit abort_if_unstarted(join_handle<R>& job) noexcept : job_(job) {}
  abort_if_unstarted(const abort_if_unstarted&) = delete;
  abort_if_unstarted& operator=(const abort_if_unstarted&) = delete;
  ~abort_if_unstarted() { job_.abort(); }

private:
  join_handle<R>& job_;
};

}  // namespace weft::detail

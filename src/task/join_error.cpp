// SPDX-License-Identifier: MIT
#include <weft/join_error.hpp>

#include <string_view>

namespace weft {

namespace {

std::string describe(task_id id, std::source_location where) {
  std::string_view file = where.file_name();
  if (auto slash = file.rfind('/'); slash != std::string_view::npos) file.remove_prefix(slash + 1);
  std::string text = "task " + std::to_string(id);
  if (!file.empty()) {
    text += " (spawned at ";
    text += file;
    text += ':' + std::to_string(where.line()) + ')';
  }
  return text;
}

std::string what_of(const std::exception_ptr& payload) {
  try {
    std::rethrow_exception(payload);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

join_error join_error::cancelled(task_id id, std::source_location where) {
  return join_error(id, nullptr, describe(id, where) + " was cancelled");
}

join_error join_error::panicked(task_id id, std::source_location where, std::exception_ptr payload) {
  std::string message = describe(id, where) + " panicked: " + what_of(payload);
  return join_error(id, std::move(payload), std::move(message));
}

join_error join_error::rejected(task_id id, std::source_location where, const std::exception_ptr& reason) {
  return join_error(id, nullptr, describe(id, where) + " was " + what_of(reason), true);
}

}  // namespace weft

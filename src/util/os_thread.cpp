// SPDX-License-Identifier: MIT
#include "util/os_thread.hpp"

#include <cerrno>
#include <memory>
#include <new>

namespace weft::detail {

namespace {

struct start_args {
  std::string name;
  std::function<void()> body;
};

void* thread_main(void* raw) {
  std::unique_ptr<start_args> args(static_cast<start_args*>(raw));
  pthread_setname_np(pthread_self(), args->name.substr(0, 15).c_str());
  args->body();
  return nullptr;
}

}  // namespace

int start_os_thread(pthread_t& thread, const std::string& name, std::size_t stack_size,
                    std::function<void()> body) noexcept {
  auto* args = new (std::nothrow) start_args{name, std::move(body)};
  if (!args) return ENOMEM;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  int rc = stack_size ? pthread_attr_setstacksize(&attr, stack_size) : 0;
  if (rc == 0) rc = pthread_create(&thread, &attr, &thread_main, args);
  pthread_attr_destroy(&attr);
  if (rc != 0) delete args;
  return rc;
}

}  // namespace weft::detail

// SPDX-License-Identifier: MIT
#pragma once
// A hint to the CPU that this is a spin loop (x86 `pause`, Arm `yield`).
namespace weft::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

}  // namespace weft::detail

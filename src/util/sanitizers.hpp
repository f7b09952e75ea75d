// SPDX-License-Identifier: MIT
#pragma once
// Which sanitizer this translation unit is built with, for g++ (which defines
// __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__) and clang (which answers
// __has_feature): WEFT_ASAN and WEFT_TSAN are 1 or 0.
#if defined(__SANITIZE_ADDRESS__)
#define WEFT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_ASAN 1
#endif
#endif
#ifndef WEFT_ASAN
#define WEFT_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#define WEFT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEFT_TSAN 1
#endif
#endif
#ifndef WEFT_TSAN
#define WEFT_TSAN 0
#endif

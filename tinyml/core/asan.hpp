// AddressSanitizer detection: TINYML_ASAN is 1 when the including file is compiled under it.
#pragma once

#if defined(__SANITIZE_ADDRESS__)  // GCC
#define TINYML_ASAN 1
#elif defined(__has_feature)  // clang (14 does not define __SANITIZE_ADDRESS__)
#if __has_feature(address_sanitizer)
#define TINYML_ASAN 1
#endif
#endif
#ifdef TINYML_ASAN
#include <sanitizer/asan_interface.h>  // __asan_poison_memory_region, __asan_unpoison_memory_region
#else
#define TINYML_ASAN 0
#endif

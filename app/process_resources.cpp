// Process limits and allocator settings, applied once from main(); the heap in use, read by the control API;
// returning freed memory, when the runtime sees the link quiet.
#include "app/process_resources.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#if defined(__APPLE__)
#include <sys/syslimits.h>  // OPEN_MAX
#endif

#if defined(__GLIBC__)
#include <malloc.h>
#endif

// Under AddressSanitizer malloc is ASan's, and glibc's mallinfo2() reports zeros: ask ASan instead.
#if defined(__SANITIZE_ADDRESS__)
#define VZNET_ASAN_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VZNET_ASAN_ALLOCATOR 1
#endif
#endif
#if defined(VZNET_ASAN_ALLOCATOR)
// Declared here because GCC does not install clang's <sanitizer/allocator_interface.h>; libasan exports it.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

#include <spdlog/spdlog.h>

namespace vznet::app {

namespace {
std::string mode_text(mode_t mode) {
  char text[8];
  (void)std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));  // 4 digits fit
  return text;
}
}  // namespace

rlim_t wanted_descriptor_limit(rlim_t current, rlim_t hard, std::optional<rlim_t> platform_cap) {
  rlim_t wanted = hard;
  if (platform_cap && (wanted == RLIM_INFINITY || wanted > *platform_cap)) wanted = *platform_cap;
  return current == RLIM_INFINITY || current > wanted ? current : wanted;
}

void raise_descriptor_limit(std::size_t max_flows) {
  // Every flow holds a host socket: the usual soft limit of 1024 descriptors would cap vznet far below
  // --max-flows. Take what the hard limit allows, and say so when even that is short.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) return;
#if defined(OPEN_MAX)
  const std::optional<rlim_t> platform_cap = OPEN_MAX;
#else
  const std::optional<rlim_t> platform_cap;
#endif
  const rlim_t wanted = wanted_descriptor_limit(files.rlim_cur, files.rlim_max, platform_cap);
  if (wanted != files.rlim_cur) {
    files.rlim_cur = wanted;
    ::setrlimit(RLIMIT_NOFILE, &files);
    ::getrlimit(RLIMIT_NOFILE, &files);
  }
  if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur < max_flows + 64) {
    spdlog::warn("only {} file descriptors allowed (ulimit -n): fewer flows than --max-flows {} can be open",
                 static_cast<unsigned long long>(files.rlim_cur), max_flows);
  }
}

void ensure_private_directory(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0) return;  // ours, 0700 from the start (the umask only removes bits)
  const int error = errno;
  if (error != EEXIST) throw std::runtime_error("cannot create " + path + ": " + std::strerror(error));
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0)
    throw std::runtime_error("cannot inspect " + path + ": " + std::strerror(errno));
  if (!S_ISDIR(info.st_mode))
    throw std::runtime_error(path + " exists and is not a directory (a symlink?): refusing it");
  if (info.st_uid != ::getuid()) {
    throw std::runtime_error(path + " belongs to uid " + std::to_string(info.st_uid) +
                             ", not to this user: refusing to put sockets there");
  }
  if ((info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    throw std::runtime_error(path + " is writable by others (mode " + mode_text(info.st_mode) +
                             "): refusing it; chmod 700 it or remove it");
  }
}

void keep_packet_memory() {
#if defined(__GLIBC__)
  // Every guest frame becomes a malloc'ed pbuf (up to 64 KiB at MTU 65520) that lives until the host socket
  // takes it, so a loop turn allocates and frees megabytes at the top of the heap. With glibc's default
  // 128 KiB trim threshold each turn handed those pages back (brk) and faulted them in again on the next:
  // a third of vznet's CPU at MTU 65520, measured with perf. Keep up to 32 MiB of freed heap (the order of
  // what the flows' windows can hold in flight) and fix the mmap threshold above the largest pbuf, which
  // also stops glibc from moving both thresholds on its own.
  constexpr int kTrimThreshold = 32 * 1024 * 1024;
  constexpr int kMmapThreshold = 1024 * 1024;
  mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
  mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
#endif
}

std::optional<std::size_t> heap_in_use() {
#if defined(VZNET_ASAN_ALLOCATOR)
  return __sanitizer_get_current_allocated_bytes();
#elif defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
  const struct mallinfo2 info = mallinfo2();  // walks the free lists: for an API request, not the data path
  return info.uordblks + info.hblkhd;
#else
  return std::nullopt;
#endif
}

bool return_free_memory() {
#if defined(__GLIBC__) && !defined(VZNET_ASAN_ALLOCATOR)
  return malloc_trim(0) != 0;
#else
  return false;
#endif
}

}  // namespace vznet::app

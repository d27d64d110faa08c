// Process limits and allocator settings, applied once from main().
#include "app/process_resources.h"

#include <sys/resource.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <spdlog/spdlog.h>

namespace vznet::app {

void raise_descriptor_limit(std::size_t max_flows) {
  // Every flow holds a host socket: the usual soft limit of 1024 descriptors would cap vznet far below
  // --max-flows. Take what the hard limit allows, and say so when even that is short.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) return;
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
    ::getrlimit(RLIMIT_NOFILE, &files);
  }
  if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur < max_flows + 64) {
    spdlog::warn("only {} file descriptors allowed (ulimit -n): fewer flows than --max-flows {} can be open",
                 static_cast<unsigned long long>(files.rlim_cur), max_flows);
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

}  // namespace vznet::app

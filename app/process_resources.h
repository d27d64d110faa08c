// What vznet asks of its own process before it starts: enough file descriptors for --max-flows, an allocator
// that keeps the memory a busy link recycles instead of returning it to the kernel every turn, and a private
// directory for its default sockets. Also how much heap it holds, for the control API, and giving the kept
// memory back once the link is quiet.
#pragma once

#include <sys/resource.h>

#include <cstddef>
#include <optional>
#include <string>

namespace vznet::app {

/// The soft descriptor limit to ask for: the hard limit, but at most `platform_cap` where the kernel refuses
/// more than that whatever the hard limit says (macOS: OPEN_MAX, with a hard limit of RLIM_INFINITY that
/// setrlimit() rejects, leaving the default 256). Never lower than `current`. Pure.
rlim_t wanted_descriptor_limit(rlim_t current, rlim_t hard, std::optional<rlim_t> platform_cap);

/// Raises the soft RLIMIT_NOFILE (see wanted_descriptor_limit); warns when that still cannot hold `max_flows`
/// sockets.
void raise_descriptor_limit(std::size_t max_flows);

/// Makes `path` a directory only this user can use, or checks that it already is one: created with mode 0700
/// if missing (its parent must exist); if present, it must be a real directory (not a symlink) owned by this
/// user and writable by no one else, or another user could have prepared it to catch vznet's sockets. Throws
/// std::runtime_error saying what is wrong.
void ensure_private_directory(const std::string& path);

/// glibc only (elsewhere a no-op): see process_resources.cpp.
void keep_packet_memory();

/// Bytes of heap handed out and not yet freed (glibc: mallinfo2's arena and mmap'ed blocks in use); nothing
/// where the allocator cannot say. Unlike the RSS it leaves out the freed memory keep_packet_memory() lets
/// glibc keep, so two quiet moments compare what vznet holds: a leak shows at once (GET /stats, tools/soak).
std::optional<std::size_t> heap_in_use();

/// Hands the freed heap that keep_packet_memory() lets glibc keep back to the kernel (malloc_trim), so that a
/// vznet that went quiet after a burst shrinks again. Walks the whole heap: for a quiet moment, never the data
/// path. Returns whether any memory went back; a no-op (false) elsewhere, where the allocator returns memory
/// on its own.
bool return_free_memory();

}  // namespace vznet::app

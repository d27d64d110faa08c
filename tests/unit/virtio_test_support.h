// Helpers for the virtio socket-level unit tests: a temp dir, a loop runner that waits on a condition with a
// timeout, a PortEvents recorder, frame builders, small client-socket helpers and the output queue's storage check
// both framings share. Test-only.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <asio/io_context.hpp>

#include "app/process_resources.h"
#include "virtio/guest_port.h"
#include "virtio/port_base.h"
#include "virtio/unix_socket.h"

namespace vznet::virtio::testing {

using Bytes = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

/// A fresh directory under /tmp (short, so socket paths fit sun_path), removed with its contents.
struct TempDir {
  TempDir() {
    char pattern[] = "/tmp/vzv.XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string file(const std::string& name) const { return path + "/" + name; }
  std::string path;
};

/// Runs `io` until `done()` holds or `timeout` passes. Returns whether `done()` held.
inline bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(5ms);
  }
  return true;
}

/// Lets every handler that is ready now (and those they post) run, for `span`.
inline void run_for(asio::io_context& io, std::chrono::milliseconds span) {
  if (io.stopped()) io.restart();
  io.run_for(span);
}

/// Records everything a listener reports.
struct Recorder : PortEvents {
  struct Received {
    PortId port;
    Bytes bytes;
  };
  void port_attached(GuestPort& port) override {
    live[port.id()] = &port;
    attached.push_back(port.id());
    names.push_back(port.name());
  }
  void frame_received(GuestPort& port, Frame frame) override {
    frames.push_back({port.id(), Bytes(frame.begin(), frame.end())});
  }
  void port_detached(GuestPort& port) override {
    live.erase(port.id());
    detached.push_back(port.id());
  }
  GuestPort& port(PortId id) { return *live.at(id); }

  std::map<PortId, GuestPort*> live;
  std::vector<PortId> attached;
  std::vector<std::string> names;
  std::vector<Received> frames;
  std::vector<PortId> detached;
};

/// An Ethernet frame of `size` bytes: broadcast destination, source MAC 02:00:00:00:00:`tag`, payload `tag`.
inline Bytes make_frame(std::size_t size, std::uint8_t tag) {
  Bytes frame(size, tag);
  for (int i = 0; i < 6 && i < static_cast<int>(size); ++i) frame[i] = 0xff;
  const std::uint8_t source[6] = {0x02, 0, 0, 0, 0, tag};
  for (int i = 0; i < 6 && 6 + i < static_cast<int>(size); ++i) frame[6 + i] = source[i];
  return frame;
}

/// The frame in stream framing (BE32 length + bytes).
inline Bytes stream_encoded(const Bytes& frame) {
  Bytes out{static_cast<std::uint8_t>(frame.size() >> 24), static_cast<std::uint8_t>(frame.size() >> 16),
            static_cast<std::uint8_t>(frame.size() >> 8), static_cast<std::uint8_t>(frame.size())};
  out.insert(out.end(), frame.begin(), frame.end());
  return out;
}

inline sockaddr_un unix_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  return address;
}

/// A client socket of `type`, bound at `bind_path` if given, connected to `connect_path` if given.
inline UniqueFd client_socket(int type, const std::string& bind_path = {}, const std::string& connect_path = {}) {
  UniqueFd fd(::socket(AF_UNIX, type, 0));
  if (!bind_path.empty()) {
    const sockaddr_un address = unix_address(bind_path);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) return {};
  }
  if (!connect_path.empty()) {
    const sockaddr_un address = unix_address(connect_path);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) return {};
  }
  return fd;
}

/// Sends `bytes` as one datagram to `path` (unconnected socket) or on a connected socket (empty path), running
/// the loop while the kernel says "would block" so the listener can drain.
inline bool send_message(asio::io_context& io, int fd, const Bytes& bytes, const std::string& path = {}) {
  const sockaddr_un address = unix_address(path);
  return run_until(io, [&] {
    const ssize_t n = path.empty() ? ::send(fd, bytes.data(), bytes.size(), MSG_DONTWAIT)
                                   : ::sendto(fd, bytes.data(), bytes.size(), MSG_DONTWAIT,
                                              reinterpret_cast<const sockaddr*>(&address), sizeof address);
    return n == static_cast<ssize_t>(bytes.size());
  });
}

/// Writes all of `bytes` to a stream socket, running the loop while it would block.
inline bool write_all(asio::io_context& io, int fd, const Bytes& bytes) {
  std::size_t done = 0;
  return run_until(io, [&] {
    const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_DONTWAIT);
    if (n > 0) done += static_cast<std::size_t>(n);
    return done == bytes.size();
  });
}

/// Runs the loop until one message arrives on `fd` (or the timeout); returns it.
inline std::optional<Bytes> receive_message(asio::io_context& io, int fd, std::chrono::milliseconds timeout = 5s) {
  Bytes buffer(70000);
  std::optional<Bytes> got;
  run_until(
      io,
      [&] {
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n >= 0) got = Bytes(buffer.begin(), buffer.begin() + n);
        return got.has_value();
      },
      timeout);
  return got;
}

/// Runs the loop until `count` bytes arrived on stream socket `fd`; returns them (fewer on timeout or EOF).
inline Bytes receive_bytes(asio::io_context& io, int fd, std::size_t count) {
  Bytes got;
  Bytes buffer(65536);
  bool eof = false;
  run_until(io, [&] {
    const ssize_t n = ::recv(fd, buffer.data(), std::min(buffer.size(), count - got.size()), MSG_DONTWAIT);
    if (n > 0) got.insert(got.end(), buffer.begin(), buffer.begin() + n);
    if (n == 0) eof = true;
    return eof || got.size() >= count;
  });
  return got;
}

/// Fills `port`'s output queue to its limit with `frame` (taking `wire_overhead` more bytes each in the queue),
/// lets `drain` read the `accepted` frames on the peer's side, and checks that the queue's storage stays while the
/// link is busy and goes back to the allocator once the queue has stayed empty for kPortQueueIdleRelease. Called
/// right after the port attached: the heap figure it starts from counts the port and its buffers.
inline void expect_queue_storage_goes_back(asio::io_context& io, GuestPort& port, const LinkCounters& counters,
                                           const Bytes& frame, std::size_t wire_overhead,
                                           const std::function<void(std::size_t accepted)>& drain) {
  const std::optional<std::size_t> before = app::heap_in_use();
  ASSERT_TRUE(before);
  const std::size_t accepted = kMaxPortQueueBytes / (frame.size() + wire_overhead);
  for (std::size_t i = 0; i < accepted; ++i) ASSERT_TRUE(port.send_frame(frame));
  EXPECT_GE(app::heap_in_use().value(), *before + kMaxPortQueueBytes);  // the backlog, before the peer reads
  drain(accepted);
  ASSERT_TRUE(run_until(io, [&] { return counters.frames_out == accepted; }));
  // Emptied just now: the storage stays for a while (a busy link reuses it) ...
  EXPECT_GE(app::heap_in_use().value(), *before + kMaxPortQueueBytes);
  // ... and goes back once the queue has stayed empty for kPortQueueIdleRelease.
  EXPECT_TRUE(run_until(
      io, [&] { return app::heap_in_use().value() < *before + kPortQueueKeptBytes; }, 3s))
      << app::heap_in_use().value() - *before << " bytes more than before the backlog";
}

}  // namespace vznet::virtio::testing

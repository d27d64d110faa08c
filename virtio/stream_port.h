// StreamPort: a guest port on a byte stream (QEMU -netdev stream, an accepted unix:// connection or an inherited
// stream fd). Frames travel as a 4-byte big-endian length and the bytes (frame_codec.h does the framing).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "virtio/frame_codec.h"
#include "virtio/port_base.h"
#include "virtio/socket_watcher.h"

namespace vznet::virtio {

/// Bytes asked for per read: many frames per syscall, and a whole 64 KiB frame plus prefix fits.
inline constexpr std::size_t kStreamReadChunk = 256 * 1024;

class StreamPort final : public PortBase, private StreamDecoder::Sink {
 public:
  /// Owns the connected stream socket `fd`.
  StreamPort(const PortContext& context, PortOwner& owner, std::string_view label, UniqueFd fd);

  void start() override;

 private:
  void flush() override;
  void close_io() override;
  SocketWatcher::Drain drain();
  void frame(Frame decoded) override { deliver(decoded); }
  void drop(LinkDrop reason) override { counters().drops.add(reason); }

  SocketWatcher watcher_;
  StreamDecoder decoder_;
  std::unique_ptr<std::uint8_t[]> read_buffer_;
  bool write_waiting_ = false;
};

}  // namespace vznet::virtio

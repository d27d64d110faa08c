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
  // Output: prefixed frames back to back; out_head_ is the first unwritten byte. ends_ records where each frame
  // ends (and its length) so frames are counted as sent only once wholly written.
  struct FrameEnd {
    std::size_t end;
    std::size_t length;
  };

  bool enqueue(Frame frame) override;
  void flush() override;
  std::size_t discard_queue() override;
  void close_io() override;
  bool queue_empty() const override { return out_head_ == out_.size(); }
  std::size_t queue_storage() const override { return out_.capacity() + ends_.capacity() * sizeof(FrameEnd); }
  void release_queue_storage() override;

  SocketWatcher::Drain drain();
  void count_written();
  void compact_output();
  void frame(Frame decoded) override { deliver(decoded); }
  void drop(LinkDrop reason) override { counters().drops.add(reason); }

  SocketWatcher watcher_;
  StreamDecoder decoder_;
  std::unique_ptr<std::uint8_t[]> read_buffer_;
  std::vector<std::uint8_t> out_;
  std::size_t out_head_ = 0;
  std::vector<FrameEnd> ends_;
  std::size_t ends_head_ = 0;
  bool write_waiting_ = false;
};

}  // namespace vznet::virtio

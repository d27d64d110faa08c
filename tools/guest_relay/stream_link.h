// unix:// framing (QEMU's -netdev stream): each frame is preceded by its length as 4 bytes, big-endian.
// Outgoing frames are read from the tap straight into one contiguous buffer behind their prefix, so one
// send() carries many frames (or, with frame_per_write, one frame each, as QEMU sends them); a partial send keeps
// its place and nothing is ever cut out of a frame.
#pragma once

#include <cstdint>
#include <vector>

#include "tools/guest_relay/link.h"

namespace vznet::relay {

class StreamLink final : public Link {
 public:
  /// Takes ownership of a connected, nonblocking SOCK_STREAM socket.
  StreamLink(int fd, bool frame_per_write);
  ~StreamLink() override;
  StreamLink(const StreamLink&) = delete;
  StreamLink& operator=(const StreamLink&) = delete;

  int fd() const override { return fd_; }
  bool has_room() const override;
  std::span<std::uint8_t> frame_slot() override;
  void commit_frame(std::size_t size) override;
  bool has_output() const override { return out_tail_ > out_head_; }
  IoStatus flush() override;
  IoStatus receive(FrameSink& sink) override;
  const std::string& reason() const override { return reason_; }

 private:
  IoStatus deliver(FrameSink& sink);
  /// closed (the peer went away) or failed, with reason() set.
  IoStatus io_error(const char* what, int err);

  int fd_;
  bool frame_per_write_;
  std::string reason_;
  // To vznet: [out_head_, out_tail_) is queued; frames are appended at out_tail_.
  std::vector<std::uint8_t> out_;
  std::size_t out_head_ = 0, out_tail_ = 0;
  std::size_t frame_rest_ = 0;  ///< frame_per_write: bytes of the frame being sent still to send (0: at a frame start)
  // From vznet: [in_head_, in_tail_) is received and not yet delivered (possibly ending in a partial frame).
  std::vector<std::uint8_t> in_;
  std::size_t in_head_ = 0, in_tail_ = 0;
};

}  // namespace vznet::relay

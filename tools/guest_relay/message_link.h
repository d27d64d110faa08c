// unixgram:// and unixpacket:// framings: one frame per datagram / per SOCK_SEQPACKET message. Frames are
// batched both ways with sendmmsg()/recvmmsg() over fixed slots, so a burst costs one system call.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <sys/socket.h>
#include <sys/types.h>

#include "tools/guest_relay/link.h"

namespace vznet::relay {

class MessageLink final : public Link {
 public:
  /// Takes ownership of a connected, nonblocking SOCK_DGRAM or SOCK_SEQPACKET socket. For datagrams,
  /// `peer_path` is vznet's socket: check_peer() notices when it disappears or is replaced.
  MessageLink(int fd, bool seqpacket, std::string peer_path);
  ~MessageLink() override;
  MessageLink(const MessageLink&) = delete;
  MessageLink& operator=(const MessageLink&) = delete;

  int fd() const override { return fd_; }
  bool has_room() const override { return out_count_ < kSlots; }
  std::span<std::uint8_t> frame_slot() override;
  void commit_frame(std::size_t size) override;
  bool has_output() const override { return out_sent_ < out_count_; }
  IoStatus flush() override;
  IoStatus receive(FrameSink& sink) override;
  IoStatus check_peer() override;
  const std::string& reason() const override { return reason_; }

 private:
  /// Frames per sendmmsg()/recvmmsg(). 64 slots of kMaxFrame bytes is 4 MiB each way.
  static constexpr std::size_t kSlots = 64;
  struct Batch {
    std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(kSlots * kMaxFrame);
    std::array<iovec, kSlots> iov{};
    std::array<mmsghdr, kSlots> msgs{};
    std::uint8_t* slot(std::size_t i) { return bytes.data() + i * kMaxFrame; }
  };
  IoStatus deliver(FrameSink& sink);
  IoStatus peer_gone(const char* what, int err);

  int fd_;
  bool seqpacket_;
  std::string peer_path_;
  dev_t peer_dev_ = 0;
  ino_t peer_ino_ = 0;
  std::string reason_;
  Batch out_, in_;
  std::size_t out_count_ = 0, out_sent_ = 0;  // out_: [out_sent_, out_count_) waits to be sent
  std::size_t in_count_ = 0, in_next_ = 0;    // in_: [in_next_, in_count_) waits to be delivered
  std::uint64_t dropped_oversized_ = 0;
};

}  // namespace vznet::relay

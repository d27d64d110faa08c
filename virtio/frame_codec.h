// Pure codecs for the guest link: frame size checks, the vfkit greeting, and the QEMU stream framing (4-byte
// big-endian length, then the frame). No I/O here; the ports feed bytes in and take frames out.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "virtio/guest_port.h"
#include "virtio/link_counters.h"

namespace vznet::virtio {

/// An Ethernet header: destination MAC, source MAC, EtherType. Anything shorter is a runt.
inline constexpr std::size_t kEthernetHeaderSize = 14;
/// The largest length a stream prefix may carry: a 64 KiB IP packet plus its Ethernet header. Anything longer
/// (or zero) means the byte stream is out of step and cannot be resynchronised.
inline constexpr std::size_t kMaxStreamFrameLength = 65535 + kEthernetHeaderSize;
/// Size of the stream length prefix.
inline constexpr std::size_t kStreamPrefixSize = 4;

/// The 4-byte datagram vfkit sends first to register itself; it is not a frame.
inline constexpr std::array<std::uint8_t, 4> kVfkitGreeting{'V', 'F', 'K', 'T'};

/// True if `datagram` is exactly the vfkit greeting.
bool is_vfkit_greeting(Frame datagram);

/// Why a frame of `size` bytes must be dropped (runt, oversized), or nullopt if it is a deliverable frame.
std::optional<LinkDrop> check_frame_size(std::size_t size, std::size_t max_frame_size);

/// Appends `frame` to `out` in stream framing: big-endian 32-bit length, then the bytes.
void append_stream_frame(std::vector<std::uint8_t>& out, Frame frame);

/// Incremental decoder for the stream framing. Bytes arrive in any split; frames that lie wholly inside one
/// fed chunk are handed out without copying, frames split across chunks are reassembled. Runt and oversized
/// frames are skipped without buffering them. A zero or impossible length breaks the stream for good.
class StreamDecoder {
 public:
  /// Receives what the decoder finds.
  class Sink {
   public:
    /// A complete frame of 14..max_frame_size bytes, valid only during the call.
    virtual void frame(Frame frame) = 0;
    /// A frame skipped (runt, oversized) or the stream broken (bad_length_prefix, reported once).
    virtual void drop(LinkDrop reason) = 0;

   protected:
    ~Sink() = default;
  };

  /// `max_frame_size` must not exceed kMaxStreamFrameLength.
  explicit StreamDecoder(std::size_t max_frame_size);

  /// Decodes as much of `bytes` as possible. Returns false once the stream is broken; it then ignores all input.
  bool feed(Frame bytes, Sink& sink);

  /// True after a bad length prefix.
  bool broken() const { return state_ == State::broken; }
  /// Bytes of a partial frame (or prefix) held back, waiting for the rest.
  std::size_t pending_bytes() const;

 private:
  // prefix: collecting the 4-byte length (prefix_have_ of 4). A good length moves to body (or, if the whole frame
  //         is in the chunk, delivers it and stays); a runt/oversized length moves to skip; 0 or > 65535+14 to broken.
  // body:   collecting a split frame into body_; complete -> deliver, back to prefix.
  // skip:   passing over skip_left_ bytes of a dropped frame; done -> prefix.
  // broken: final; feed() ignores everything.
  enum class State { prefix, body, skip, broken };
  bool start_frame(std::size_t length, Sink& sink);

  std::size_t max_frame_size_;
  State state_ = State::prefix;
  std::array<std::uint8_t, kStreamPrefixSize> prefix_{};
  std::size_t prefix_have_ = 0;
  std::vector<std::uint8_t> body_;  ///< a frame split across chunks
  std::size_t body_need_ = 0;       ///< its full length
  std::size_t skip_left_ = 0;       ///< bytes of a dropped frame still to pass over
};

}  // namespace vznet::virtio

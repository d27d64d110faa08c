// The two ends the relay joins: the tap (FrameSink for frames from vznet) and the socket to vznet (Link,
// one implementation per framing). Both are nonblocking; the relay loop (relay.cpp) decides when to call them.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace vznet::relay {

/// Largest Ethernet frame either side may carry: the largest tap MTU plus the Ethernet header.
inline constexpr std::size_t kMaxFrame = 65535 + 14;
/// Smallest: an Ethernet header.
inline constexpr std::size_t kMinFrame = 14;

/// What happened to one frame handed to a sink.
enum class PutResult {
  done,     ///< written
  dropped,  ///< refused for good (counted and logged by the sink); go on with the next frame
  blocked,  ///< the sink is full: keep the frame, retry when it is writable
};

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual PutResult put(std::span<const std::uint8_t> frame) = 0;
};

/// Outcome of a socket operation.
enum class IoStatus {
  idle,          ///< did what it could; the socket would block (or the turn's budget is spent)
  sink_blocked,  ///< receive() stopped because the sink is full; frames are kept for the next call
  closed,        ///< vznet closed the connection (EOF, peer gone); reason() says how
  failed,        ///< an error that ends the relay; reason() says which
};

/// Turns a failed send/receive on the socket to vznet into a status and a reason: vznet going away (its
/// socket closed or reset, a datagram peer gone) ends the relay cleanly; anything else is a failure.
inline IoStatus link_error(const char* what, int err, std::string& reason) {
  std::string detail = std::string(what) + ": " + std::strerror(err);
  if (err == ECONNREFUSED || err == ENOTCONN || err == EPIPE || err == ECONNRESET) {
    reason = "vznet went away (" + detail + ")";
    return IoStatus::closed;
  }
  reason = detail;
  return IoStatus::failed;
}

/// The socket to vznet in one framing. Frames from the tap are read straight into frame_slot() and
/// committed; flush() writes everything queued with as few system calls as the framing allows.
class Link {
 public:
  virtual ~Link() = default;
  virtual int fd() const = 0;
  /// True while another tap frame may be queued. False is the backpressure signal: stop reading the tap.
  virtual bool has_room() const = 0;
  /// At least kMaxFrame writable bytes for the next frame from the tap (only while has_room()).
  virtual std::span<std::uint8_t> frame_slot() = 0;
  /// The first `size` bytes of frame_slot() are a frame: queue it.
  virtual void commit_frame(std::size_t size) = 0;
  virtual bool has_output() const = 0;
  /// Writes queued frames until done or the socket would block.
  virtual IoStatus flush() = 0;
  /// Hands frames already received to `sink`, then reads more and hands those on, until the socket would
  /// block, the sink blocks, or a per-call budget is spent (so the other direction gets its turn).
  virtual IoStatus receive(FrameSink& sink) = 0;
  /// Called about once a second: detects a peer that went away silently (a datagram peer has no EOF).
  virtual IoStatus check_peer() { return IoStatus::idle; }
  /// Why the last call returned closed or failed.
  virtual const std::string& reason() const = 0;
};

}  // namespace vznet::relay

// The Linux tap device the relay feeds: created (or attached) in the current network namespace with
// IFF_TAP | IFF_NO_PI, nonblocking. Addresses, routes and link state are the caller's business.
// With offload, the tap also carries virtio-net headers and offers checksum and TCP segmentation offload, as
// krunkit's guest NIC does with offloading=on: the guest kernel hands over TCP segments of up to 64 KiB with
// unfilled checksums, and the header is stripped before the frame goes to vznet; frames from vznet get a
// header that tells the kernel a large TCP frame is a segmentation of MTU-sized ones, and that checksums are
// valid.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "tools/guest_relay/link.h"

namespace vznet::relay {

struct TapCounters {
  std::uint64_t frames_read = 0, bytes_read = 0, frames_written = 0, bytes_written = 0;
  std::uint64_t dropped_down = 0;   ///< written while the interface was down (EIO): nobody to receive
  std::uint64_t dropped_error = 0;  ///< refused for another reason (logged, rate-limited)
};

class Tap final : public FrameSink {
 public:
  /// Creates the tap if missing, attaches otherwise. Throws std::runtime_error naming the device.
  Tap(const std::string& name, std::optional<int> mtu, bool offload);
  ~Tap() override;
  Tap(const Tap&) = delete;
  Tap& operator=(const Tap&) = delete;

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  /// Reads one frame into `buffer` (at least kMaxFrame bytes). Returns its size, 0 if none is waiting.
  /// Throws std::runtime_error if the device failed.
  std::size_t read_frame(std::span<std::uint8_t> buffer);
  /// Writes one frame to the guest kernel.
  PutResult put(std::span<const std::uint8_t> frame) override;
  const TapCounters& counters() const { return counters_; }

 private:
  int fd_ = -1;
  std::string name_;
  int mtu_ = 1500;  ///< the tap's MTU: the size large TCP frames from vznet are segmented to
  bool offload_ = false;
  TapCounters counters_;
};

}  // namespace vznet::relay

// --pcap and the control API's /pcap: every frame that crosses a guest port, both ways, written to a pcap file
// (libpcap's format, link type Ethernet) that Wireshark and tshark read. The file is written through libpcap's
// buffered dumper; at the size limit it is renamed FILE.1 (replacing the previous one) and a new FILE begins, so a
// capture never holds more than twice the limit on disk. pcap has no direction field: frames from the guest have
// the guest's MAC as source, frames to it as destination.
#pragma once

#include <cstdint>
#include <string>

#include "virtio/port_switch.h"

struct pcap;
struct pcap_dumper;

namespace vznet::app {

/// Default size at which a capture file is rotated.
inline constexpr std::uint64_t kDefaultPcapMaxBytes = 100ull << 20;

/// What a capture has written so far.
struct PcapStatus {
  std::string path;
  std::uint64_t max_bytes = 0;
  std::uint64_t frames = 0;        ///< written, across rotations
  std::uint64_t bytes = 0;         ///< frame bytes written (captured length), across rotations
  std::uint64_t rotations = 0;     ///< times FILE became FILE.1
  std::uint64_t write_errors = 0;  ///< frames lost to a failed write or rotation (the disk is full...)
};

class PcapCapture final : public virtio::FrameTap {
 public:
  /// Creates (truncates) `path`. Throws std::runtime_error naming the path when it cannot be written, and
  /// std::invalid_argument when `max_bytes` is too small to hold a frame.
  PcapCapture(std::string path, std::uint64_t max_bytes);
  ~PcapCapture() override;
  PcapCapture(const PcapCapture&) = delete;
  PcapCapture& operator=(const PcapCapture&) = delete;

  void frame(virtio::PortId port, Direction direction, virtio::Frame frame) override;
  /// Hands what libpcap has buffered to the file (the runtime calls it every second, so a reader is never
  /// more than a second behind).
  void flush();
  const PcapStatus& status() const { return status_; }

 private:
  void open();
  void close();
  void rotate();

  pcap* handle_ = nullptr;  ///< a "dead" handle: only the link type and snapshot length, for the dumper
  pcap_dumper* dumper_ = nullptr;
  std::uint64_t file_bytes_ = 0;  ///< what the current file holds, headers included
  PcapStatus status_;
};

}  // namespace vznet::app

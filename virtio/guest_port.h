// The guest-link seam: what a transport (unixgram, unix stream, seqpacket, inherited fd) offers upward and
// what it reports. Knows frames and bytes only, nothing about IP. Implementations: *_port.cpp in this folder.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace vznet::virtio {

using Frame = std::span<const std::uint8_t>;
using PortId = std::uint32_t;

/// One attached guest: a datagram peer, an accepted stream or seqpacket connection, or an inherited fd.
/// Owned by the listener that created it; lives from PortEvents::port_attached to port_detached.
class GuestPort {
 public:
  virtual ~GuestPort() = default;
  /// Queues one Ethernet frame for the guest (copied). Frames queued during one event-loop turn leave in
  /// as few syscalls as the transport allows (the port posts its own flush). Returns false if the frame
  /// was dropped (queue at its bound, peer gone); the drop is counted in LinkCounters.
  virtual bool send_frame(Frame frame) = 0;
  /// Stable id, unique for the life of the process.
  virtual PortId id() const = 0;
  /// For logs: transport, path and peer ("unix:/run/vznet.sock#3").
  virtual const std::string& name() const = 0;
};

/// What a listener reports upward (implemented by PortSwitch).
class PortEvents {
 public:
  virtual ~PortEvents() = default;
  virtual void port_attached(GuestPort& port) = 0;
  /// One frame from the guest; the bytes are valid only during the call.
  virtual void frame_received(GuestPort& port, Frame frame) = 0;
  /// The guest went away (EOF, error, peer socket gone, impossible framing). `port` is destroyed after return.
  virtual void port_detached(GuestPort& port) = 0;
};

}  // namespace vznet::virtio

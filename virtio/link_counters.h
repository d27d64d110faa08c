// Counters for the guest link: frames and bytes each way, and drops by reason. Plain integers, owned by the
// app and shared by every listener and port (one thread, no atomics needed). Logged and reported elsewhere.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/counters.h"

namespace vznet::virtio {

enum class LinkDrop : std::uint8_t {
  runt,               ///< shorter than an Ethernet header
  oversized,          ///< longer than the MTU allows (MTU + 14)
  bad_length_prefix,  ///< stream length prefix 0 or beyond any Ethernet frame: connection closed
  queue_full,         ///< output queue to the guest at its bound
  send_failed,        ///< the transport refused the frame (error other than "would block")
  unnamed_peer,       ///< datagram from an unbound socket: no address to answer
  count_
};
inline constexpr std::array<std::string_view, static_cast<std::size_t>(LinkDrop::count_)> kLinkDropNames{
    "runt", "oversized", "bad_length_prefix", "queue_full", "send_failed", "unnamed_peer"};

struct LinkCounters {
  std::uint64_t frames_in = 0, bytes_in = 0, frames_out = 0, bytes_out = 0;
  base::Counts<LinkDrop> drops;
};

}  // namespace vznet::virtio

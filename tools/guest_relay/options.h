// Command line of vznet-guest-relay: which tap, which vznet socket, which framing. Pure: no I/O, so the
// parsing rules are easy to read in one place. The relay itself lives in relay.cpp.
#pragma once

#include <optional>
#include <span>
#include <string>

namespace vznet::relay {

/// How frames travel on the socket to vznet (the same three framings vznet listens with).
enum class Framing {
  stream,     ///< unix://PATH: SOCK_STREAM, QEMU's 4-byte big-endian length prefix before each frame
  datagram,   ///< unixgram://PATH: SOCK_DGRAM, one frame per datagram (vfkit)
  seqpacket,  ///< unixpacket://PATH: SOCK_SEQPACKET, one frame per message
};

/// Largest MTU a Linux tap accepts; frames are at most this plus the 14-byte Ethernet header.
inline constexpr int kMaxMtu = 65535;
inline constexpr int kMinMtu = 68;  // IPv4's minimum

struct Options {
  std::string tap;  ///< --tap NAME
  Framing framing = Framing::stream;
  std::string path;             ///< socket path from --connect
  std::string connect_text;     ///< --connect as written, for messages
  std::string local;            ///< --local PATH (datagram only); empty: a temp path chosen at start-up
  bool vfkit_greeting = false;  ///< --vfkit-greeting (datagram only): send "VFKT" first
  /// --frame-per-write (stream only): one send() per frame, as QEMU writes, instead of many frames per send()
  bool frame_per_write = false;
  /// --offload: the tap offers checksum and TCP segmentation offload, and virtio-net headers are stripped (to
  /// vznet) and added (to the tap), as krunkit does with offloading=on
  bool offload = false;
  std::optional<int> mtu;  ///< --mtu N: set the tap's MTU to N
  bool help = false;
};

/// Parses argv (without argv[0]). On failure returns nullopt and sets `error` to one sentence naming the flag.
std::optional<Options> parse_options(std::span<const char* const> args, std::string& error);

/// The --help text.
const char* usage();

}  // namespace vznet::relay

// Parsing of vznet-guest-relay's flags (see options.h). Every error names the flag it is about.
#include "tools/guest_relay/options.h"

#include <array>
#include <charconv>
#include <string_view>

#include <net/if.h>
#include <sys/un.h>

namespace vznet::relay {
namespace {

struct Scheme {
  std::string_view prefix;
  Framing framing;
};
constexpr std::array<Scheme, 3> kSchemes{{
    {"unix://", Framing::stream},
    {"unixgram://", Framing::datagram},
    {"unixpacket://", Framing::seqpacket},
}};

// sun_path must hold the path and its terminating NUL.
constexpr std::size_t kMaxSocketPath = sizeof(sockaddr_un::sun_path) - 1;

bool parse_connect(std::string_view text, Options& out, std::string& error) {
  for (const auto& scheme : kSchemes) {
    if (text.substr(0, scheme.prefix.size()) != scheme.prefix) continue;
    std::string_view path = text.substr(scheme.prefix.size());
    if (path.empty()) {
      error = "--connect " + std::string(text) + ": the socket path is empty";
      return false;
    }
    if (path.size() > kMaxSocketPath) {
      error = "--connect " + std::string(text) + ": the socket path is longer than " + std::to_string(kMaxSocketPath) +
              " bytes";
      return false;
    }
    out.framing = scheme.framing;
    out.path = std::string(path);
    out.connect_text = std::string(text);
    return true;
  }
  error = "--connect " + std::string(text) + ": expected unix://PATH, unixgram://PATH or unixpacket://PATH";
  return false;
}

bool parse_mtu(std::string_view text, Options& out, std::string& error) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < kMinMtu || value > kMaxMtu) {
    error = "--mtu " + std::string(text) + ": expected a number from " + std::to_string(kMinMtu) + " to " +
            std::to_string(kMaxMtu);
    return false;
  }
  out.mtu = value;
  return true;
}

}  // namespace

std::optional<Options> parse_options(std::span<const char* const> args, std::string& error) {
  Options out;
  bool have_connect = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view flag = args[i];
    if (flag == "--help" || flag == "-h") {
      out.help = true;
      return out;
    }
    if (flag == "--vfkit-greeting") {
      out.vfkit_greeting = true;
      continue;
    }
    if (flag == "--frame-per-write") {
      out.frame_per_write = true;
      continue;
    }
    if (flag == "--offload") {
      out.offload = true;
      continue;
    }
    bool takes_value = flag == "--tap" || flag == "--connect" || flag == "--local" || flag == "--mtu";
    if (!takes_value) {
      error = "unknown flag " + std::string(flag) + " (see --help)";
      return std::nullopt;
    }
    if (i + 1 == args.size()) {
      error = std::string(flag) + " needs a value";
      return std::nullopt;
    }
    std::string_view value = args[++i];
    if (flag == "--tap") {
      if (value.empty() || value.size() >= IFNAMSIZ) {
        error = "--tap " + std::string(value) + ": an interface name is 1 to " + std::to_string(IFNAMSIZ - 1) +
                " characters";
        return std::nullopt;
      }
      out.tap = std::string(value);
    } else if (flag == "--connect") {
      if (!parse_connect(value, out, error)) return std::nullopt;
      have_connect = true;
    } else if (flag == "--local") {
      if (value.empty() || value.size() > kMaxSocketPath) {
        error =
            "--local " + std::string(value) + ": a socket path is 1 to " + std::to_string(kMaxSocketPath) + " bytes";
        return std::nullopt;
      }
      out.local = std::string(value);
    } else if (!parse_mtu(value, out, error)) {
      return std::nullopt;
    }
  }
  if (out.tap.empty()) {
    error = "--tap NAME is required";
    return std::nullopt;
  }
  if (!have_connect) {
    error = "--connect URI is required";
    return std::nullopt;
  }
  if (out.framing != Framing::datagram && (!out.local.empty() || out.vfkit_greeting)) {
    error = std::string(out.local.empty() ? "--vfkit-greeting" : "--local") + " applies to unixgram:// only";
    return std::nullopt;
  }
  if (out.framing != Framing::stream && out.frame_per_write) {
    error = "--frame-per-write applies to unix:// only";
    return std::nullopt;
  }
  return out;
}

const char* usage() {
  return "usage: vznet-guest-relay --tap NAME --connect URI [--local PATH] [--vfkit-greeting] [--frame-per-write]\n"
         "                         [--offload] [--mtu N]\n"
         "Relays Ethernet frames between a Linux tap device (created if missing, in the current network\n"
         "namespace) and vznet's guest socket, so the kernel behind the tap acts as a guest.\n"
         "  --tap NAME         tap interface to create or attach (IFF_TAP, no packet info)\n"
         "  --connect URI      unix://PATH (QEMU stream, 4-byte big-endian length before each frame),\n"
         "                     unixgram://PATH (one frame per datagram, as vfkit),\n"
         "                     unixpacket://PATH (SOCK_SEQPACKET, one frame per message)\n"
         "  --local PATH       unixgram only: our own socket path (default: a temp path removed at exit)\n"
         "  --vfkit-greeting   unixgram only: send the 4-byte datagram \"VFKT\" first, as vfkit does\n"
         "  --frame-per-write  unix only: one send() per frame, as QEMU writes (default: many frames per send())\n"
         "  --offload          the tap offers checksum and TCP segmentation offload; frames up to 64 KiB go to\n"
         "                     vznet without their virtio-net header, as krunkit's offloading=on (vznet --offload)\n"
         "  --mtu N            set the tap's MTU to N (68..65535); frames up to 65535+14 bytes are relayed\n"
         "Runs until SIGTERM/SIGINT (exit 0) or until vznet closes the connection (exit 0).\n"
         "Errors: exit 1 at run time, 2 for bad flags.\n";
}

}  // namespace vznet::relay

// Opening the guest-facing endpoints named by --listen URIs. One listener per URI; it creates a GuestPort for
// each guest that attaches and reports through PortEvents. Start-up errors throw; run-time errors detach ports.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>

#include "virtio/guest_port.h"
#include "virtio/link_counters.h"

namespace vznet::virtio {

/// A parsed --listen value.
struct ListenUri {
  enum class Kind { unixgram, unix_stream, unixpacket, fd };
  Kind kind = Kind::unix_stream;
  std::string path;  ///< socket path (all kinds but fd)
  int fd = -1;       ///< inherited descriptor (fd only)
  std::string text;  ///< as the user wrote it, for messages
};

/// "unixgram://PATH", "unix://PATH", "unixpacket://PATH", "fd://N". Pure; on failure returns nullopt and
/// sets `error` to a message that names the problem.
std::optional<ListenUri> parse_listen_uri(std::string_view text, std::string& error);

struct LinkOptions {
  std::size_t max_frame_size = 1514;  ///< MTU + Ethernet header; longer frames are dropped (counted)
};

class GuestListener {
 public:
  virtual ~GuestListener() = default;
  /// Stops accepting, detaches every port (port_detached for each), removes socket files it created.
  virtual void close() = 0;
  virtual const ListenUri& uri() const = 0;
};

/// Binds/adopts the endpoint. Throws std::runtime_error with one clear sentence (path in use, not writable,
/// fd not a socket...) on failure, leaving nothing behind.
std::unique_ptr<GuestListener> open_listener(asio::io_context& io, const ListenUri& uri, const LinkOptions& options,
                                             PortEvents& events, LinkCounters& counters);

}  // namespace vznet::virtio

// Socket activation: the listening sockets a service manager (systemd, or systemd-socket-activate) opened for
// vznet and passed at exec, by sd_listen_fds(3)'s protocol: LISTEN_PID names this process, LISTEN_FDS counts the
// descriptors, which start at 3. They become fd:// listeners, whose socket type picks the framing. Written out
// rather than linked from libsystemd: the protocol is two environment variables, and vznet builds where there is
// no systemd (macOS: launchd's sockets are another protocol, not supported).
#pragma once

#include <vector>

#include "virtio/listener.h"

namespace vznet::app {

/// The passed sockets as fd:// URIs ("fd://3", ...), or none when the variables are absent, name another
/// process, or are malformed (a log line says so). Clears LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES, so a child
/// never takes them for its own, and marks the descriptors close-on-exec.
std::vector<virtio::ListenUri> activated_listeners();

}  // namespace vznet::app

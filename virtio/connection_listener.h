// ConnectionListener: a listening stream or seqpacket socket (unix://, unixpacket://, or an inherited listening
// fd). Each accepted connection becomes a port: StreamPort for SOCK_STREAM, PacketPort for SOCK_SEQPACKET.
#pragma once

#include <string>

#include "virtio/listener.h"
#include "virtio/port_base.h"
#include "virtio/socket_watcher.h"

namespace vznet::virtio {

class ConnectionListener final : public GuestListener, public PortOwner {
 public:
  /// Takes the listening `socket` of `socket_type` (bound at `file`, or inherited with an empty `file`).
  /// `label` names ports ("unix:PATH").
  ConnectionListener(asio::io_context& io, ListenUri uri, std::string label, int socket_type,
                     const LinkOptions& options, PortEvents& events, LinkCounters& counters, UniqueFd socket,
                     SocketFile file);
  ~ConnectionListener() override { close(); }

  void close() override;
  const ListenUri& uri() const override { return uri_; }

 private:
  SocketWatcher::Drain drain();
  void adopt(UniqueFd connection);
  void port_failed(PortBase& port) override { ports_.detach(port, port.detach_reason()); }

  ListenUri uri_;
  std::string label_;
  int socket_type_;
  PortContext context_;
  SocketWatcher watcher_;
  SocketFile file_;
  PortSet ports_;
  bool closed_ = false;
};

}  // namespace vznet::virtio

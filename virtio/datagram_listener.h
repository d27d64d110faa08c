// DatagramListener: the unixgram:// endpoint (vfkit, QEMU -netdev dgram), or an inherited unconnected datagram
// socket. One socket, many guests: each distinct sender address becomes a PacketPort. Reads in recvmmsg batches
// and routes each datagram to its sender's port; the ports send on the same socket.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "virtio/listener.h"
#include "virtio/packet_port.h"
#include "virtio/port_base.h"
#include "virtio/socket_watcher.h"

namespace vznet::virtio {

class DatagramListener final : public GuestListener, public PortOwner {
 public:
  /// Takes `socket` (bound at `file`, or inherited with an empty `file`). `label` names ports ("unixgram:PATH").
  DatagramListener(asio::io_context& io, ListenUri uri, std::string label, const LinkOptions& options,
                   PortEvents& events, LinkCounters& counters, UniqueFd socket, SocketFile file);
  ~DatagramListener() override { close(); }

  void close() override;
  const ListenUri& uri() const override { return uri_; }

 private:
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept { return std::hash<std::string_view>{}(key); }
  };

  SocketWatcher::Drain drain();
  void handle(const sockaddr_un& source, socklen_t source_length, Frame datagram);
  PacketPort* find_peer(std::string_view key);
  void port_failed(PortBase& port) override;

  ListenUri uri_;
  std::string label_;
  PortContext context_;
  SocketWatcher watcher_;
  SocketFile file_;
  PacketReceiver receiver_;
  PortSet ports_;
  std::unordered_map<std::string, PacketPort*, KeyHash, std::equal_to<>> peers_;
  PacketPort* last_peer_ = nullptr;  ///< most datagrams come from the same peer as the one before
  bool closed_ = false;
};

}  // namespace vznet::virtio

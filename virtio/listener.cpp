// open_listener: turns a ListenUri into a running listener. Path URIs bind a fresh socket (see unix_socket.h for
// the in-use/stale checks); fd:// inspects the inherited socket and picks the framing from SO_TYPE.
// Also holds SinglePortListener, the listener for an inherited connected socket (exactly one port).
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <asio/post.hpp>

#include "base/life_guard.h"
#include "virtio/connection_listener.h"
#include "virtio/datagram_listener.h"
#include "virtio/frame_codec.h"
#include "virtio/listener.h"
#include "virtio/packet_port.h"
#include "virtio/stream_port.h"

namespace vznet::virtio {
namespace {

/// An inherited connected socket: one guest, attached on the first loop turn, gone for good when it detaches.
class SinglePortListener final : public GuestListener, public PortOwner {
 public:
  SinglePortListener(asio::io_context& io, ListenUri uri, int socket_type, const LinkOptions& options,
                     PortEvents& events, LinkCounters& counters, UniqueFd socket)
      : uri_(std::move(uri)), context_{io, events, counters, options.max_frame_size}, ports_(io, events) {
    const std::string label = "fd:" + std::to_string(uri_.fd);
    if (socket_type == SOCK_STREAM) {
      pending_ = std::make_unique<StreamPort>(context_, *this, label, std::move(socket));
    } else {
      const auto mode = socket_type == SOCK_SEQPACKET ? PacketPort::Owned::connection : PacketPort::Owned::datagram;
      pending_ = std::make_unique<PacketPort>(context_, *this, label, std::move(socket), mode);
    }
    // Report the guest from the loop, like every other attach, once the caller has finished wiring.
    asio::post(io, guard_.wrap([this] { ports_.attach(std::move(pending_)); }));
  }
  ~SinglePortListener() override { close(); }

  void close() override {
    guard_.revoke();
    pending_.reset();
    ports_.detach_all("listener closed");
  }
  const ListenUri& uri() const override { return uri_; }

 private:
  void port_failed(PortBase& port) override { ports_.detach(port, port.detach_reason()); }

  ListenUri uri_;
  PortContext context_;
  PortSet ports_;
  std::unique_ptr<PortBase> pending_;  ///< the port until its attach runs
  base::LifeGuard guard_;
};

struct PathKind {
  ListenUri::Kind kind;
  int socket_type;
  const char* scheme;
};
constexpr std::array<PathKind, 3> kPathKinds{{
    {ListenUri::Kind::unixgram, SOCK_DGRAM, "unixgram"},
    {ListenUri::Kind::unix_stream, SOCK_STREAM, "unix"},
    {ListenUri::Kind::unixpacket, SOCK_SEQPACKET, "unixpacket"},
}};

std::unique_ptr<GuestListener> open_path_listener(asio::io_context& io, const ListenUri& uri, const PathKind& kind,
                                                  const LinkOptions& options, PortEvents& events,
                                                  LinkCounters& counters) {
  BoundSocket bound = bind_unix_socket(uri.path, kind.socket_type);
  set_socket_buffers(bound.fd.get(), kGuestSocketBufferBytes);
  const std::string label = std::string(kind.scheme) + ":" + uri.path;
  if (kind.socket_type == SOCK_DGRAM) {
    return std::make_unique<DatagramListener>(io, uri, label, options, events, counters, std::move(bound.fd),
                                              std::move(bound.file));
  }
  return std::make_unique<ConnectionListener>(io, uri, label, kind.socket_type, options, events, counters,
                                              std::move(bound.fd), std::move(bound.file));
}

std::unique_ptr<GuestListener> open_fd_listener(asio::io_context& io, const ListenUri& uri, const LinkOptions& options,
                                                PortEvents& events, LinkCounters& counters) {
  const InheritedSocket info = inspect_inherited_socket(uri.fd, uri.text);
  if (!prepare_guest_socket(uri.fd)) {
    throw std::runtime_error("cannot configure inherited socket " + uri.text + ": " + std::strerror(errno));
  }
  set_socket_buffers(uri.fd, kGuestSocketBufferBytes);
  UniqueFd socket(uri.fd);
  const std::string label = "fd:" + std::to_string(uri.fd);
  if (info.listening) {
    return std::make_unique<ConnectionListener>(io, uri, label, info.type, options, events, counters, std::move(socket),
                                                SocketFile{});
  }
  if (info.type == SOCK_DGRAM && !info.connected) {
    return std::make_unique<DatagramListener>(io, uri, label, options, events, counters, std::move(socket),
                                              SocketFile{});
  }
  return std::make_unique<SinglePortListener>(io, uri, info.type, options, events, counters, std::move(socket));
}

}  // namespace

std::unique_ptr<GuestListener> open_listener(asio::io_context& io, const ListenUri& uri, const LinkOptions& options,
                                             PortEvents& events, LinkCounters& counters) {
  if (options.max_frame_size < kEthernetHeaderSize || options.max_frame_size > kMaxStreamFrameLength) {
    throw std::runtime_error("maximum frame size " + std::to_string(options.max_frame_size) + " for " + uri.text +
                             " is outside 14.." + std::to_string(kMaxStreamFrameLength));
  }
  if (uri.kind == ListenUri::Kind::fd) return open_fd_listener(io, uri, options, events, counters);
  for (const PathKind& kind : kPathKinds) {
    if (kind.kind == uri.kind) return open_path_listener(io, uri, kind, options, events, counters);
  }
  throw std::runtime_error("unsupported listen address " + uri.text);
}

}  // namespace vznet::virtio

// DatagramListener: peer learning on one datagram socket. A datagram from a new named sender (the vfkit greeting
// or a first frame) attaches a port; unnamed senders cannot be answered and are dropped (unnamed_peer).
#include "virtio/datagram_listener.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "virtio/frame_codec.h"

namespace vznet::virtio {
namespace {
/// Receive calls per loop turn before yielding (up to 4 x 64 datagrams), so one busy guest cannot starve the loop.
constexpr int kReceiveCallsPerTurn = 4;
/// Pause after an unexpected receive error (e.g. ENOMEM) before reading again, so a persistent error cannot spin.
constexpr std::chrono::milliseconds kReceiveErrorBackoff{100};
}  // namespace

DatagramListener::DatagramListener(asio::io_context& io, ListenUri uri, std::string label, const LinkOptions& options,
                                   PortEvents& events, LinkCounters& counters, UniqueFd socket, SocketFile file)
    : uri_(std::move(uri)),
      label_(std::move(label)),
      context_{io, events, counters, options.max_frame_size},
      watcher_(io, std::move(socket)),
      file_(std::move(file)),
      receiver_(options.max_frame_size),
      ports_(io, events) {
  watcher_.start_reading([this] { return drain(); });
}

SocketWatcher::Drain DatagramListener::drain() {
  for (int call = 0; call < kReceiveCallsPerTurn; ++call) {
    std::error_code ec;
    const std::size_t count = receiver_.receive(watcher_.fd(), ec);
    if (ec) {
      if (would_block(ec.value())) return SocketWatcher::Drain::would_block;
      // One socket serves every guest, so it is never given up; back off and read again.
      spdlog::warn("{}: receive failed: {}; retrying in {} ms", uri_.text, ec.message(), kReceiveErrorBackoff.count());
      watcher_.run_after(kReceiveErrorBackoff, [this] { watcher_.start_reading([this] { return drain(); }); });
      return SocketWatcher::Drain::stop;
    }
    for (std::size_t i = 0; i < count && !closed_; ++i) {
      handle(receiver_.source(i), receiver_.source_length(i), receiver_.bytes(i));
    }
    if (closed_) return SocketWatcher::Drain::stop;
  }
  return SocketWatcher::Drain::budget_used;
}

void DatagramListener::handle(const sockaddr_un& source, socklen_t source_length, Frame datagram) {
  const std::string_view key = unix_address_key(source, source_length);
  if (key.empty()) {
    context_.counters.drops.add(LinkDrop::unnamed_peer);
    return;
  }
  PacketPort* port = find_peer(key);
  const bool greeting = is_vfkit_greeting(datagram);
  if (!port) {
    // Only a greeting or a well-formed frame may attach a peer; junk from a stranger costs nothing.
    if (!greeting) {
      if (auto reason = check_frame_size(datagram.size(), context_.max_frame_size)) {
        context_.counters.drops.add(*reason);
        return;
      }
    }
    auto created = std::make_unique<PacketPort>(context_, *this, label_, watcher_.fd(), source, source_length);
    port = created.get();
    peers_.emplace(std::string(port->peer_key()), port);
    ports_.attach(std::move(created));
    if (port->closed()) return;
  }
  last_peer_ = port;
  if (!greeting) port->receive(datagram);
}

PacketPort* DatagramListener::find_peer(std::string_view key) {
  if (last_peer_ && last_peer_->peer_key() == key) return last_peer_;
  auto it = peers_.find(key);
  return it == peers_.end() ? nullptr : it->second;
}

void DatagramListener::port_failed(PortBase& port) {
  auto& packet_port = static_cast<PacketPort&>(port);
  if (last_peer_ == &packet_port) last_peer_ = nullptr;
  auto it = peers_.find(packet_port.peer_key());
  if (it != peers_.end() && it->second == &packet_port) peers_.erase(it);
  ports_.detach(port, port.detach_reason());
}

void DatagramListener::close() {
  if (closed_) return;
  closed_ = true;
  watcher_.close();
  last_peer_ = nullptr;
  peers_.clear();
  ports_.detach_all("listener closed");
  file_.remove();
}

}  // namespace vznet::virtio

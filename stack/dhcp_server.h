// The DHCPv4 server on the gateway: an lwIP UDP pcb on port 67 that feeds client messages to the
// DhcpResponder, and sends its replies from gateway:67 to port 68 in Ethernet frames addressed to the asking
// client's MAC, so they reach its port only. Owns the pcb and the lease pool, which also answers the guard's
// claims of addresses guests use without DHCP; the protocol logic is dhcp_responder.cpp's, the wire format
// dhcp_message.cpp's.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "lwip/ip_addr.h"
#include "stack/address_claims.h"
#include "stack/dhcp_responder.h"
#include "stack/udp_pcb.h"

struct pbuf;
struct udp_pcb;

namespace vznet::stack {

class Stack;

class DhcpServer final : public AddressClaims {
 public:
  /// The server's clock; tests pass their own to move time.
  using Clock = std::function<DhcpTime()>;

  /// Binds 0.0.0.0:67 (clients without an address broadcast to 255.255.255.255). Throws
  /// std::invalid_argument when `config` fails DhcpConfig::validate(), std::runtime_error when lwIP cannot
  /// create the pcb. `stack` and `counters` must outlive the server.
  DhcpServer(Stack& stack, const DhcpConfig& config, DhcpCounters& counters, Clock clock = default_clock());
  ~DhcpServer() override;
  DhcpServer(const DhcpServer&) = delete;
  DhcpServer& operator=(const DhcpServer&) = delete;

  /// The lease pool (for GET /leases: leases().snapshot(now())).
  const LeasePool& leases() const { return responder_.leases(); }
  /// Every lease record as of now, by address.
  std::vector<Lease> lease_snapshot() const { return responder_.leases().snapshot(clock_()); }
  DhcpTime now() const { return clock_(); }

  AddressClaim claim(const base::MacAddress& mac, Ipv4Address address) override {
    return responder_.use(mac, address, clock_());
  }
  void end_use(const base::MacAddress& mac, Ipv4Address address) override {
    responder_.end_use(mac, address, clock_());
  }
  const DhcpConfig& config() const { return responder_.config(); }

  static Clock default_clock() {
    return [] { return std::chrono::steady_clock::now(); };
  }

 private:
  void on_datagram(pbuf* p, const ip_addr_t* source, std::uint16_t source_port);
  void send(const DhcpOutgoing& reply);

  Stack& stack_;
  DhcpCounters& counters_;
  DhcpResponder responder_;
  Clock clock_;
  UdpPcbPtr pcb_;
};

}  // namespace vznet::stack

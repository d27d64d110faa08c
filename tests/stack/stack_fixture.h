// The fixture of the stack tests: a real Stack + Forwarder (lwIP, catch-all, host sockets on loopback only) on
// one io_context, frames injected as from guest port 1, the frames sent back collected in order.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <asio/io_context.hpp>

#include "forward/forwarder.h"
#include "stack/stack.h"
#include "tests/stack/frames.h"

namespace vznet::test {

inline const Ipv4Address kGateway{192, 168, 64, 1};
inline const Ipv4Address kGuest{192, 168, 64, 2};

class StackTest : public ::testing::Test {
 protected:
  StackTest() {
    stack::StackConfig config;
    stack_ = std::make_unique<stack::Stack>(
        io_, config, [this](virtio::Frame f) { sent_.push_back({Bytes(f.begin(), f.end())}); }, stack_counters_);
    forward::ForwardConfig fconfig;
    fconfig.connect_timeout = std::chrono::seconds(2);
    forwarder_ = std::make_unique<forward::Forwarder>(io_, *stack_, fconfig, forward_counters_);
    gateway_mac_ = config.gateway_mac;
    sent_.clear();  // lwIP announces itself (gratuitous ARP) when the netif comes up
  }
  ~StackTest() override {
    forwarder_.reset();
    stack_.reset();
  }

  void inject(const Bytes& frame) { stack_->guest_frame(1, frame); }

  /// Replaces the forwarder with one built from `config` (limits and timeouts under test).
  void reconfigure(const forward::ForwardConfig& config) {
    forwarder_.reset();
    forwarder_ = std::make_unique<forward::Forwarder>(io_, *stack_, config, forward_counters_);
  }

  /// Runs the loop until `done()` or `limit` passes; returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(10));
    }
    return done();
  }

  /// Runs the loop until a sent frame satisfies `match` (returning it) or 3 s pass.
  std::optional<SeenFrame> await_frame(const std::function<bool(const SeenFrame&)>& match) {
    return take_frame(io_, sent_, match);
  }

  /// Teaches lwIP the guest's MAC (as a real guest does by asking for the gateway).
  void resolve_gateway() {
    inject(arp_request(kGuest, kGateway));
    ASSERT_TRUE(await_frame([](const SeenFrame& f) { return f.ethertype() == 0x0806; }));
  }

  /// A guest TCP connection through the gateway to a host server on loopback `port`, handshake completed
  /// (SYN, SYN-ACK, ACK); returns the stack's initial sequence number + 1 (what the guest acknowledges next),
  /// or nullopt if no SYN-ACK came. The guest's first data byte is `guest_isn` + 1.
  std::optional<std::uint32_t> connect_guest(std::uint16_t guest_port, std::uint16_t port, std::uint32_t guest_isn) {
    inject(tcp_syn(gateway_mac_, {kGuest, guest_port}, {kGateway, port}, guest_isn));
    auto synack = await_frame([&](const SeenFrame& f) { return is_tcp_to_guest(f, guest_port); });
    if (!synack || (synack->l4()[13] & 0x12) != 0x12) return std::nullopt;
    const std::uint32_t next = get32(synack->l4(), 4) + 1;
    inject(tcp_segment(gateway_mac_, {kGuest, guest_port}, {kGateway, port}, guest_isn + 1, next, 0x10));
    return next;
  }

  static bool is_tcp_to_guest(const SeenFrame& f, std::uint16_t guest_port) {
    return f.ethertype() == 0x0800 && f.protocol() == 6 && f.ip_dst() == kGuest && get16(f.l4(), 2) == guest_port;
  }

  asio::io_context io_;
  stack::StackCounters stack_counters_;
  forward::ForwardCounters forward_counters_;
  std::unique_ptr<stack::Stack> stack_;
  std::unique_ptr<forward::Forwarder> forwarder_;
  std::vector<SeenFrame> sent_;
  Mac gateway_mac_{};
};

}  // namespace vznet::test

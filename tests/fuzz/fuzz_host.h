// The host side of stack_fuzz: what the flows' host sockets meet. TCP and UDP flows get real peers on a loopback
// address (a listener the input accepts from, sends on, reads, half-closes and resets; a bound port that refuses;
// a port whose connects hang); ICMP echo flows get a fake echo socket (one end of a socketpair) whose replies the
// input writes; and the published ports stack_fuzz opens get loopback clients (inbound flows). The egress policy
// lets flows out to exactly these and denies every other destination.
//
// Network safety, twice over: the policy allows only kHostLoopback's three ports (reached through the gateway
// address) and echo to kPingTarget, which never reaches a real ICMP socket (stack_fuzz replaces
// open_icmp_echo_socket, see there); and on Linux, when it may (root), the process first moves into a network
// namespace of its own whose only interface is loopback, so even a policy bug could not send a packet anywhere.
// Outside one (not root, not Linux) the same fixed loopback ports are bound in the host's namespace; if one is
// taken, the policy denies it rather than let the fuzzer talk to someone else's server.
//
// Host operations (FuzzHost::act), from the record's first byte: action = byte & 7, index = byte >> 3.
//   0 index 0: accept every connection waiting on the open port; otherwise a client connects to the published
//     TCP port from 127.0.0.1:50000 + index (the guest sees it as the gateway, that port)
//   1 send the rest of the record on connection `index` (accepted ones and clients, in the order they came)
//   2 read everything connection `index` has received (the peer keeps reading: backpressure lifts)
//   3 half-close connection `index` (shutdown(SHUT_WR): the flow sees EOF)
//   4 close connection `index`: abortively (RST) if the rest is empty or its first byte is odd, else with a FIN
//   5 index < 16: read the UDP port's datagrams (learning their senders); send the rest, if any, to sender
//     `index`. Otherwise a client on 127.0.0.1:50000 + index reads what it was sent and sends the rest, if
//     any, to the published UDP port
//   6 index 30/31: the next echo sockets fail to open (unreachable / ping sockets refused by the host);
//     otherwise on echo socket `index`: read the requests, then answer the last one with a well-formed reply,
//     or, if the rest is not empty, send the rest as it is (what a host's recv() might return)
//   7 (the flows' clock; stack_fuzz handles it)
#pragma once

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __linux__
#include <sched.h>
#include <sys/syscall.h>
#endif

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <system_error>
#include <vector>

#include "forward/egress_policy.h"
#include "forward/icmp_socket.h"
#include "stack/ipv4_address.h"
#include "tests/fuzz/fuzz_support.h"

namespace vznet::fuzz {

/// What the gateway address reaches on the host in stack_fuzz (ForwardConfig::host_loopback): a loopback
/// address of its own, so the fixed ports below meet nobody else's sockets even outside a namespace.
inline constexpr Ipv4Address kHostLoopback{127, 86, 0, 1};
/// Ports above 1024, so a fuzzer that is not root may bind them too, and below the ephemeral range.
inline constexpr std::uint16_t kOpenPort = 29080;     ///< TCP: a listener the input accepts from; UDP: a bound socket
inline constexpr std::uint16_t kRefusedPort = 29081;  ///< TCP: bound, not listening (connection refused); UDP: unbound
inline constexpr std::uint16_t kSilentPort = 29082;   ///< TCP: a full accept queue, connects hang; UDP: unbound
/// The one echo destination the policy allows: TEST-NET-1, answered only by the fake echo sockets.
inline constexpr Ipv4Address kPingTarget{192, 0, 2, 1};
/// Published-port clients bind 127.0.0.1:kClientPorts + index, so the guest sees ports the input can name.
inline constexpr std::uint16_t kClientPorts = 50000;

class FuzzHost {
 public:
  FuzzHost() {
    isolate();
    open_ = bound(SOCK_STREAM, kOpenPort);
    if (open_ >= 0) {
      // A small receive buffer, inherited by accepted connections, so a host that does not read pushes back on
      // the flow after a few kilobytes (the flow's write would-block path) instead of megabytes.
      const int small = 4096;
      ::setsockopt(open_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
      if (::listen(open_, 64) != 0) close_fd(open_);
    }
    refused_ = bound(SOCK_STREAM, kRefusedPort);
    silent_ = bound(SOCK_STREAM, kSilentPort);
    if (silent_ >= 0 && ::listen(silent_, 0) == 0) {
      // Backlog 0 holds one connection; with this one never accepted, the kernel drops every further SYN.
      filler_ = socket_of(SOCK_STREAM);
      const sockaddr_in to = address(kSilentPort);
      if (::connect(filler_, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) close_fd(silent_);
    } else {
      close_fd(silent_);
    }
    udp_ = bound(SOCK_DGRAM, kOpenPort);
    instance() = this;
  }
  ~FuzzHost() {
    end_input();
    for (int* fd : {&open_, &refused_, &silent_, &filler_, &udp_}) close_fd(*fd);
    instance() = nullptr;
  }
  FuzzHost(const FuzzHost&) = delete;
  FuzzHost& operator=(const FuzzHost&) = delete;

  /// The host made by the process (for the replaced open_icmp_echo_socket).
  static FuzzHost*& instance() {
    static FuzzHost* host = nullptr;
    return host;
  }

  /// Default deny; allow kHostLoopback's ports that were bound here, and echo to kPingTarget.
  void allow_in(forward::EgressPolicy& policy) const {
    policy.set_default(forward::EgressAction::deny);
    const auto allow = [&policy](std::uint16_t port, const char* protocol) {
      const std::string rule = kHostLoopback.to_string() + ":" + std::to_string(port) + protocol;
      policy.add(forward::parse_egress_rule(forward::EgressAction::allow, rule));
    };
    if (open_ >= 0) allow(kOpenPort, "/tcp");
    if (udp_ >= 0) allow(kOpenPort, "/udp");
    if (refused_ >= 0) allow(kRefusedPort, "/tcp");
    if (silent_ >= 0) allow(kSilentPort, "/tcp");
    policy.add(forward::parse_egress_rule(forward::EgressAction::allow, kPingTarget.to_string() + "/icmp"));
  }

  void act(std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return;
    const unsigned action = bytes[0] & 7;
    const unsigned index = bytes[0] >> 3;
    const std::span<const std::uint8_t> rest = bytes.subspan(1);
    switch (action) {
      case 0: index == 0 ? accept_all() : connect_client(index); break;
      case 1:
        if (int fd = conn(index); fd >= 0) (void)::send(fd, rest.data(), rest.size(), MSG_DONTWAIT | kNoSignal);
        break;
      case 2:
        if (int fd = conn(index); fd >= 0) drain(fd);
        break;
      case 3:
        if (int fd = conn(index); fd >= 0) ::shutdown(fd, SHUT_WR);
        break;
      case 4: close_conn(index, rest.empty() || (rest[0] & 1) != 0); break;
      case 5: udp(index, rest); break;
      case 6: echo(index, rest); break;
      default: break;
    }
  }

  /// Closes what this input opened (connections abortively, so nothing lingers into the next input) and
  /// empties the queues the next input would otherwise find full.
  void end_input() {
    for (int& fd : conns_) close_fd(fd, true);
    conns_.clear();
    if (open_ >= 0) {
      for (int fd; (fd = ::accept(open_, nullptr, nullptr)) >= 0;) close_fd(fd, true);
    }
    if (udp_ >= 0) {
      while (::recv(udp_, buffer_.data(), buffer_.size(), MSG_DONTWAIT) >= 0) {
      }
    }
    peers_.clear();
    for (int& fd : udp_clients_) close_fd(fd);
    udp_clients_.clear();
    published_tcp_ = published_udp_ = 0;
    for (auto& e : echo_) close_fd(e.fd);
    echo_.clear();
    echo_mode_ = EchoMode::open;
  }

  /// The host ports this input's published ports were bound to (127.0.0.1, any free port).
  void published(std::uint16_t tcp, std::uint16_t udp) {
    published_tcp_ = tcp;
    published_udp_ = udp;
  }

  /// The replaced open_icmp_echo_socket: one end of a datagram socketpair, the other kept here.
  forward::IcmpSocketOpen open_echo_socket(Ipv4Address destination) {
    check(destination == kPingTarget, "an echo socket for a destination the egress policy denies");
    if (echo_mode_ == EchoMode::refused) return {-1, std::make_error_code(std::errc::permission_denied), true};
    if (echo_mode_ == EchoMode::unreachable) return {-1, std::make_error_code(std::errc::network_unreachable), false};
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) != 0) return {-1, std::error_code(errno, std::system_category())};
    for (int fd : pair) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    echo_.push_back({pair[1], {}});
    return {pair[0], {}, false};
  }

  /// Descriptors the process holds now (Linux; 0 elsewhere): stack_fuzz checks that an input gives back every
  /// one its flows opened.
  static std::size_t open_descriptors() {
    std::size_t n = 0;
#ifdef __linux__
    // getdents64 into a buffer on the stack: opendir() mallocs 32 KiB, which ASan fills and faults in on every
    // call, and that was most of an input's time.
    const int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return 0;
    alignas(8) char entries[4096];
    for (long got; (got = ::syscall(SYS_getdents64, dir, entries, sizeof entries)) > 0;) {
      for (long at = 0; at < got;) {
        std::uint16_t length;
        std::memcpy(&length, entries + at + 16, sizeof length);  // d_reclen, after d_ino and d_off
        ++n;
        at += length;
      }
    }
    ::close(dir);
#endif
    return n;
  }

 private:
  enum class EchoMode { open, unreachable, refused };
  struct Echo {
    int fd = -1;
    std::vector<std::uint8_t> last_request;  ///< the last echo request the flow sent on this socket
  };
#ifdef MSG_NOSIGNAL
  static constexpr int kNoSignal = MSG_NOSIGNAL;
#else
  static constexpr int kNoSignal = 0;
#endif

  static sockaddr_in address(std::uint16_t port, Ipv4Address host = kHostLoopback) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(host.value);
    a.sin_port = htons(port);
    return a;
  }

  /// A private network namespace with only loopback, where the process may make one (see the top).
  static void isolate() {
#ifdef __linux__
    if (::unshare(CLONE_NEWNET) != 0) {
      std::fprintf(stderr, "stack_fuzz: no private network namespace (%s); using the host's loopback\n",
                   std::strerror(errno));
      return;
    }
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq lo{};
    std::strncpy(lo.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(s, SIOCGIFFLAGS, &lo) == 0) {
      lo.ifr_flags = static_cast<short>(lo.ifr_flags | IFF_UP);
      ::ioctl(s, SIOCSIFFLAGS, &lo);
    }
    ::close(s);
#endif
  }

  /// An IPv4 socket closed on exec (SOCK_CLOEXEC is not portable: macOS lacks it).
  static int socket_of(int type) {
    const int fd = ::socket(AF_INET, type, 0);
    if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
  }

  /// A non-blocking socket bound to host:port, or -1 (taken: for kHostLoopback, the policy will deny the port).
  static int bound(int type, std::uint16_t port, Ipv4Address host = kHostLoopback) {
    int fd = socket_of(type);
    if (fd < 0) return -1;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const sockaddr_in a = address(port, host);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
  }

  static void close_fd(int& fd, bool with_reset = false) {
    if (fd < 0) return;
    if (with_reset) {
      const linger abort{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    }
    ::close(fd);
    fd = -1;
  }

  int conn(unsigned index) const { return conns_.empty() ? -1 : conns_[index % conns_.size()]; }

  void accept_all() {
    if (open_ < 0) return;
    for (int fd; (fd = ::accept(open_, nullptr, nullptr)) >= 0;) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      conns_.push_back(fd);
    }
  }

  /// A client of the published TCP port; its connect completes in the kernel at once (loopback), and the
  /// published port accepts it when the loop next runs.
  void connect_client(unsigned index) {
    if (published_tcp_ == 0) return;
    int fd = bound(SOCK_STREAM, static_cast<std::uint16_t>(kClientPorts + index), Ipv4Address{127, 0, 0, 1});
    if (fd < 0) return;  // this index's port is in use by an earlier client of this input
    const sockaddr_in to = address(published_tcp_, Ipv4Address{127, 0, 0, 1});
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS) {
      close_fd(fd, true);
      return;
    }
    conns_.push_back(fd);
  }

  void drain(int fd) {
    for (int i = 0; i < 64 && ::recv(fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT) > 0; ++i) {
    }
  }

  void close_conn(unsigned index, bool with_reset) {
    if (conns_.empty()) return;
    const std::size_t at = index % conns_.size();
    close_fd(conns_[at], with_reset);
    conns_.erase(conns_.begin() + static_cast<std::ptrdiff_t>(at));
  }

  void udp(unsigned index, std::span<const std::uint8_t> rest) {
    if (index >= 16) return udp_client(index, rest);
    if (udp_ < 0) return;
    for (;;) {
      sockaddr_in from{};
      socklen_t length = sizeof from;
      if (::recvfrom(udp_, buffer_.data(), buffer_.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &length) <
          0) {
        break;
      }
      bool known = false;
      for (const auto& p : peers_)
        known = known || (p.sin_port == from.sin_port && p.sin_addr.s_addr == from.sin_addr.s_addr);
      if (!known && peers_.size() < 16) peers_.push_back(from);
    }
    if (rest.empty() || peers_.empty()) return;
    const sockaddr_in& to = peers_[index % peers_.size()];
    (void)::sendto(udp_, rest.data(), rest.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }

  /// A client of the published UDP port: reads what the guest answered, then sends the rest.
  void udp_client(unsigned index, std::span<const std::uint8_t> rest) {
    if (published_udp_ == 0) return;
    const auto port = static_cast<std::uint16_t>(kClientPorts + index);
    int fd = -1;
    for (int c : udp_clients_) {
      sockaddr_in local{};
      socklen_t length = sizeof local;
      if (::getsockname(c, reinterpret_cast<sockaddr*>(&local), &length) == 0 && ntohs(local.sin_port) == port) fd = c;
    }
    if (fd < 0) {
      fd = bound(SOCK_DGRAM, port, Ipv4Address{127, 0, 0, 1});
      if (fd < 0) return;
      udp_clients_.push_back(fd);
    }
    while (::recv(fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT) >= 0) {
    }
    if (rest.empty()) return;
    const sockaddr_in to = address(published_udp_, Ipv4Address{127, 0, 0, 1});
    (void)::sendto(fd, rest.data(), rest.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }

  void echo(unsigned index, std::span<const std::uint8_t> rest) {
    if (index >= 30) {
      echo_mode_ = index == 30 ? EchoMode::unreachable : EchoMode::refused;
      return;
    }
    if (echo_.empty()) return;
    Echo& e = echo_[index % echo_.size()];
    for (ssize_t n; (n = ::recv(e.fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT)) >= 0;) {
      check(n >= 8 && buffer_[0] == 8 && buffer_[1] == 0, "the flow sent something other than an echo request");
      e.last_request.assign(buffer_.begin(), buffer_.begin() + n);
    }
    if (!rest.empty()) {
      (void)::send(e.fd, rest.data(), rest.size(), MSG_DONTWAIT);
    } else if (!e.last_request.empty()) {
      std::vector<std::uint8_t> reply = e.last_request;
      reply[0] = 0;  // echo reply; the checksum is the kernel's business and not read back
      (void)::send(e.fd, reply.data(), reply.size(), MSG_DONTWAIT);
    }
  }

  int open_ = -1, refused_ = -1, silent_ = -1, filler_ = -1, udp_ = -1;
  std::vector<int> conns_;        ///< connections accepted from the open port, and published-port clients
  std::vector<int> udp_clients_;  ///< published-port UDP clients
  std::uint16_t published_tcp_ = 0, published_udp_ = 0;  ///< this input's published ports (0: none)
  std::vector<sockaddr_in> peers_;                       ///< the flows' UDP sockets as the UDP port has seen them
  std::vector<Echo> echo_;                               ///< the harness's ends of the fake echo sockets
  EchoMode echo_mode_ = EchoMode::open;
  std::array<std::uint8_t, 65536> buffer_{};
};

}  // namespace vznet::fuzz

// Tap device: open /dev/net/tun, TUNSETIFF, optional MTU, one read()/write() per frame (a tap has no
// batched interface without virtio-net headers, which the frames on vznet's socket do not carry). With offload,
// each read and write carries a struct virtio_net_hdr before the frame (readv/writev: the frame stays in place).
#include "tools/guest_relay/tap_linux.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace vznet::relay {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

void set_mtu(const std::string& name, int mtu) {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) throw std::runtime_error("tap " + name + ": socket for SIOCSIFMTU: " + errno_text(errno));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_mtu = mtu;
  int rc = ::ioctl(sock, SIOCSIFMTU, &ifr);
  int err = errno;
  ::close(sock);
  if (rc < 0)
    throw std::runtime_error("tap " + name + ": cannot set MTU " + std::to_string(mtu) + ": " + errno_text(err));
}

// Repeated write errors of one kind are logged this many times, then only counted (reported at exit).
constexpr std::uint64_t kLoggedWriteErrors = 5;

/// struct virtio_net_hdr of <linux/virtio_net.h>, which does not compile as C++ (a member is named "class").
/// The tap's byte order is the host's (the legacy header; no TUNSETVNETLE).
struct VirtioNetHeader {
  std::uint8_t flags;
  std::uint8_t gso_type;
  std::uint16_t hdr_len;
  std::uint16_t gso_size;
  std::uint16_t csum_start;
  std::uint16_t csum_offset;
};
static_assert(sizeof(VirtioNetHeader) == 10, "the tap's default header size");
constexpr std::uint8_t kDataValid = 2;
constexpr std::uint8_t kGsoNone = 0;
constexpr std::uint8_t kGsoTcpv4 = 1;

/// The header for a frame from vznet: a TCP/IPv4 frame longer than the MTU allows is a segmentation offload
/// (the kernel cuts it into MTU-sized segments on the guest's behalf, as a NIC would); checksums are vznet's,
/// complete.
VirtioNetHeader header_for(std::span<const std::uint8_t> frame, int mtu) {
  VirtioNetHeader h{};
  h.flags = kDataValid;
  h.gso_type = kGsoNone;
  if (frame.size() <= static_cast<std::size_t>(mtu) + 14 || frame.size() < 14 + 20 + 20) return h;
  if (frame[12] != 0x08 || frame[13] != 0x00 || frame[14 + 9] != 6) return h;  // IPv4 TCP only
  const std::size_t ip_header = static_cast<std::size_t>(frame[14] & 0x0F) * 4;
  if (frame.size() < 14 + ip_header + 20) return h;
  const std::size_t tcp_header = static_cast<std::size_t>(frame[14 + ip_header + 12] >> 4) * 4;
  if (static_cast<std::size_t>(mtu) <= ip_header + tcp_header) return h;
  h.gso_type = kGsoTcpv4;
  h.hdr_len = static_cast<std::uint16_t>(14 + ip_header + tcp_header);
  h.gso_size = static_cast<std::uint16_t>(static_cast<std::size_t>(mtu) - ip_header - tcp_header);
  return h;
}

}  // namespace

Tap::Tap(const std::string& name, std::optional<int> mtu, bool offload)
    : name_(name), mtu_(mtu.value_or(1500)), offload_(offload) {
  fd_ = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error("tap " + name + ": cannot open /dev/net/tun: " + errno_text(errno));
  ifreq ifr{};
  ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0));
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd_, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    ::close(fd_);
    std::string hint = err == EBUSY    ? " (attached to another process)"
                       : err == EINVAL ? " (a tun device or another interface of that name exists?)"
                       : err == EPERM  ? " (needs CAP_NET_ADMIN)"
                                       : "";
    throw std::runtime_error("tap " + name + ": TUNSETIFF failed: " + errno_text(err) + hint);
  }
  name_ = ifr.ifr_name;
  if (offload && ::ioctl(fd_, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
    int err = errno;
    ::close(fd_);
    throw std::runtime_error("tap " + name + ": TUNSETOFFLOAD failed: " + errno_text(err));
  }
  if (mtu) {
    try {
      set_mtu(name_, *mtu);
    } catch (...) {
      ::close(fd_);
      throw;
    }
  }
}

Tap::~Tap() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t Tap::read_frame(std::span<std::uint8_t> buffer) {
  for (;;) {
    VirtioNetHeader header{};
    iovec parts[2] = {{&header, sizeof header}, {buffer.data(), buffer.size()}};
    ssize_t n = offload_ ? ::readv(fd_, parts, 2) : ::read(fd_, buffer.data(), buffer.size());
    if (offload_ && n >= 0) n = n < static_cast<ssize_t>(sizeof header) ? 0 : n - static_cast<ssize_t>(sizeof header);
    if (n >= 0) {
      ++counters_.frames_read;
      counters_.bytes_read += static_cast<std::uint64_t>(n);
      return static_cast<std::size_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    throw std::runtime_error("tap " + name_ + ": read failed: " + errno_text(errno));
  }
}

PutResult Tap::put(std::span<const std::uint8_t> frame) {
  for (;;) {
    VirtioNetHeader header = header_for(frame, mtu_);
    iovec parts[2] = {{&header, sizeof header}, {const_cast<std::uint8_t*>(frame.data()), frame.size()}};
    ssize_t n = offload_ ? ::writev(fd_, parts, 2) : ::write(fd_, frame.data(), frame.size());
    if (n >= 0) {
      ++counters_.frames_written;
      counters_.bytes_written += static_cast<std::uint64_t>(n);
      return PutResult::done;
    }
    int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return PutResult::blocked;
    if (err == EIO) {  // the interface is down (not configured yet): the frame has nowhere to go
      ++counters_.dropped_down;
      return PutResult::dropped;
    }
    if (++counters_.dropped_error <= kLoggedWriteErrors) {
      std::fprintf(stderr, "vznet-guest-relay: tap %s: dropped a %zu-byte frame from vznet: %s\n", name_.c_str(),
                   frame.size(), errno_text(err).c_str());
    }
    return PutResult::dropped;
  }
}

}  // namespace vznet::relay

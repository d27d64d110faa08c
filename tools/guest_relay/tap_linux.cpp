// Tap device: open /dev/net/tun, TUNSETIFF, optional MTU, one read()/write() per frame (a tap has no
// batched interface without virtio-net headers, which the frames on vznet's socket do not carry).
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

}  // namespace

Tap::Tap(const std::string& name, std::optional<int> mtu) : name_(name) {
  fd_ = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error("tap " + name + ": cannot open /dev/net/tun: " + errno_text(errno));
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
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
    ssize_t n = ::read(fd_, buffer.data(), buffer.size());
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
    ssize_t n = ::write(fd_, frame.data(), frame.size());
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

// Socket set-up for each framing (see vznet_socket.h).
#include "tools/guest_relay/vznet_socket.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tools/guest_relay/message_link.h"
#include "tools/guest_relay/stream_link.h"

namespace vznet::relay {
namespace {

// Socket buffers each way. 8 MiB holds several milliseconds at 10 Gbit/s, so the kernel, not the relay,
// absorbs bursts. As root SO_*BUFFORCE goes past net.core.[rw]mem_max; otherwise the kernel caps it.
constexpr int kSocketBuffer = 8 << 20;

std::string errno_text(int err) { return std::strerror(err); }

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);  // length checked by parse_options
  return addr;
}

// RAII for a descriptor until it is handed to a Link.
struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

void set_buffers(int fd) {
  int size = kSocketBuffer;
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

void connect_or_throw(int fd, const Options& options) {
  sockaddr_un addr = unix_address(options.path);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
    int err = errno;
    throw std::runtime_error("cannot connect to " + options.connect_text + ": " + errno_text(err) +
                             (err == ENOENT || err == ECONNREFUSED ? " (is vznet listening there?)" : ""));
  }
}

std::string default_local_path() {
  const char* dir = std::getenv("TMPDIR");
  std::string base = dir != nullptr && *dir != '\0' ? dir : "/tmp";
  return base + "/vznet-guest-relay." + std::to_string(::getpid()) + ".sock";
}

// A leftover socket file nobody serves (a relay that was killed) may be reused; anything else may not.
void remove_if_stale(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;
  if (!S_ISSOCK(st.st_mode)) throw std::runtime_error("--local " + path + ": exists and is not a socket");
  Fd probe(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr = unix_address(path);
  if (::connect(probe.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 || errno != ECONNREFUSED)
    throw std::runtime_error("--local " + path + ": in use by another process");
  ::unlink(path.c_str());
}

int open_datagram(const Options& options, BoundPath& local) {
  std::string path = options.local.empty() ? default_local_path() : options.local;
  if (path.size() >= sizeof(sockaddr_un::sun_path))
    throw std::runtime_error("local socket path " + path + " is too long (set --local)");
  remove_if_stale(path);
  Fd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock.fd < 0) throw std::runtime_error("socket(AF_UNIX, SOCK_DGRAM): " + errno_text(errno));
  sockaddr_un addr = unix_address(path);
  if (::bind(sock.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0)
    throw std::runtime_error("cannot bind " + path + ": " + errno_text(errno));
  local.set(path);
  set_buffers(sock.fd);
  connect_or_throw(sock.fd, options);
  if (options.vfkit_greeting) {
    static constexpr char kGreeting[4] = {'V', 'F', 'K', 'T'};
    if (::send(sock.fd, kGreeting, sizeof kGreeting, MSG_NOSIGNAL) != sizeof kGreeting)
      throw std::runtime_error("cannot send the VFKT greeting to " + options.connect_text + ": " + errno_text(errno));
  }
  return sock.release();
}

int open_connected(const Options& options, int type) {
  Fd sock(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (sock.fd < 0) throw std::runtime_error("socket(AF_UNIX): " + errno_text(errno));
  set_buffers(sock.fd);
  connect_or_throw(sock.fd, options);
  return sock.release();
}

}  // namespace

BoundPath::~BoundPath() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

std::unique_ptr<Link> connect_to_vznet(const Options& options, BoundPath& local) {
  int fd = -1;
  switch (options.framing) {
    case Framing::stream: fd = open_connected(options, SOCK_STREAM); break;
    case Framing::seqpacket: fd = open_connected(options, SOCK_SEQPACKET); break;
    case Framing::datagram: fd = open_datagram(options, local); break;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (options.framing == Framing::stream) return std::make_unique<StreamLink>(fd, options.frame_per_write);
  return std::make_unique<MessageLink>(fd, options.framing == Framing::seqpacket, options.path);
}

}  // namespace vznet::relay

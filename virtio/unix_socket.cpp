// Unix-domain socket plumbing: owning fds, created socket files, binding with the in-use/stale checks, and
// inspecting inherited descriptors. Start-up only; errors throw one sentence naming the path.
#include "virtio/unix_socket.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "virtio/socket_platform.h"

namespace vznet::virtio {
namespace {

std::string errno_text(int error) { return std::strerror(error); }

[[noreturn]] void fail(const std::string& sentence) { throw std::runtime_error(sentence); }

sockaddr_un make_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    fail("socket path " + path + " is too long (" + std::to_string(path.size()) + " bytes; the limit is " +
         std::to_string(sizeof(address.sun_path) - 1) + ")");
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

socklen_t address_length(const std::string& path) {
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
}

// Tries to reach whatever is bound at `path` with each socket type. True if anything answers.
bool socket_file_is_live(const std::string& path, const sockaddr_un& address) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM}) {
    UniqueFd probe(::socket(AF_UNIX, type, 0));
    if (!probe) continue;  // e.g. no SOCK_SEQPACKET for AF_UNIX on this platform
    ::fcntl(probe.get(), F_SETFL, O_NONBLOCK);
    if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), address_length(path)) == 0) return true;
    switch (errno) {
      case ECONNREFUSED:  // nobody bound: stale
      case EPROTOTYPE:    // bound with another socket type: try the next
      case ENOENT:        // vanished meanwhile
        continue;
      case EAGAIN:       // listener with a full backlog
      case EINPROGRESS:  // connection under way
      case EPERM:        // datagram socket connected to someone else (Linux)
      case EISCONN: return true;
      default: fail("cannot tell whether socket " + path + " is in use: " + errno_text(errno));
    }
  }
  return false;
}

// Clears the way for bind(): nothing there, or a stale socket file (removed). Throws otherwise.
void clear_socket_path(const std::string& path, const sockaddr_un& address) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    fail("cannot create socket " + path + ": " + errno_text(errno));
  }
  if (!S_ISSOCK(st.st_mode)) fail("cannot create socket " + path + ": the path exists and is not a socket");
  if (socket_file_is_live(path, address)) fail("socket " + path + " is in use by another process");
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    fail("cannot remove stale socket " + path + ": " + errno_text(errno));
  }
  spdlog::info("removed stale socket file {}", path);
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int UniqueFd::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

SocketFile::SocketFile(SocketFile&& other) noexcept
    : path_(std::move(other.path_)), dev_(other.dev_), ino_(other.ino_) {
  other.path_.clear();
}

SocketFile& SocketFile::operator=(SocketFile&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    dev_ = other.dev_;
    ino_ = other.ino_;
    other.path_.clear();
  }
  return *this;
}

void SocketFile::remove() {
  if (path_.empty()) return;
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) ::unlink(path_.c_str());
  path_.clear();
}

BoundSocket bind_unix_socket(const std::string& path, int type) {
  const sockaddr_un address = make_address(path);
  clear_socket_path(path, address);

  UniqueFd fd(::socket(AF_UNIX, type, 0));
  if (!fd) fail("cannot create a socket for " + path + ": " + errno_text(errno));
  if (!prepare_guest_socket(fd.get())) fail("cannot configure the socket for " + path + ": " + errno_text(errno));
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), address_length(path)) != 0) {
    if (errno == EADDRINUSE) fail("socket " + path + " is in use by another process");
    fail("cannot create socket " + path + ": " + errno_text(errno));
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    const int error = errno;
    ::unlink(path.c_str());
    fail("cannot create socket " + path + ": " + errno_text(error));
  }
  BoundSocket bound{std::move(fd), SocketFile(path, st.st_dev, st.st_ino)};
  if (type != SOCK_DGRAM && ::listen(bound.fd.get(), SOMAXCONN) != 0) {
    fail("cannot listen on socket " + path + ": " + errno_text(errno));  // ~SocketFile removes the file
  }
  return bound;
}

InheritedSocket inspect_inherited_socket(int fd, std::string_view what) {
  const std::string name(what);
  InheritedSocket info;
  socklen_t length = sizeof info.type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &info.type, &length) != 0) {
    if (errno == EBADF) fail(name + " is not an open file descriptor");
    if (errno == ENOTSOCK) fail(name + " is not a socket");
    fail("cannot inspect " + name + ": " + errno_text(errno));
  }
  if (info.type != SOCK_DGRAM && info.type != SOCK_STREAM && info.type != SOCK_SEQPACKET) {
    fail(name + " is a socket of unsupported type " + std::to_string(info.type) +
         " (expected datagram, stream or seqpacket)");
  }
  int accepting = 0;
  length = sizeof accepting;
  info.listening = ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0 && accepting != 0;
  sockaddr_storage peer{};
  length = sizeof peer;
  info.connected = ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) == 0;
  if (info.type == SOCK_DGRAM && !info.connected) {
    sockaddr_storage local{};
    length = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0 || local.ss_family != AF_UNIX) {
      fail(name + " is an unconnected datagram socket that is not AF_UNIX; only unix peers can be learned");
    }
  }
  return info;
}

bool prepare_guest_socket(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return false;
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return false;
  platform_prepare_socket(fd);
  return true;
}

void set_socket_buffers(int fd, int bytes) {
  constexpr int kSmallestWorthAsking = 64 * 1024;
  for (int option : {SO_SNDBUF, SO_RCVBUF}) {
    for (int size = bytes; size >= kSmallestWorthAsking; size /= 2) {
      if (::setsockopt(fd, SOL_SOCKET, option, &size, sizeof size) == 0) break;
    }
  }
}

std::string_view unix_address_key(const sockaddr_un& address, socklen_t length) {
  const auto offset = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path));
  if (length <= offset) return {};
  const std::size_t n = std::min<std::size_t>(length - offset, sizeof address.sun_path);
  if (address.sun_path[0] == '\0') return n > 1 ? std::string_view(address.sun_path, n) : std::string_view{};
  return {address.sun_path, ::strnlen(address.sun_path, n)};
}

std::string describe_unix_address(const sockaddr_un& address, socklen_t length) {
  const std::string_view key = unix_address_key(address, length);
  if (!key.empty() && key.front() == '\0') return "@" + std::string(key.substr(1));
  return std::string(key);
}

}  // namespace vznet::virtio

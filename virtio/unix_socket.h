// Unix-domain socket plumbing shared by the listeners: an owning fd, the socket file a listener creates (and
// removes), binding with the "in use / stale / not a socket" checks, and inspecting an inherited fd.
// Start-up functions throw std::runtime_error with one sentence naming the path; nothing here is per-packet.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <string>
#include <string_view>

namespace vznet::virtio {

/// Owns one file descriptor; closes it unless released.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  /// Gives up ownership.
  int release();
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

/// A socket file this process created. remove() unlinks it only if the path still names that very file
/// (same device and inode), so a successor's socket is never deleted by mistake.
class SocketFile {
 public:
  SocketFile() = default;
  SocketFile(std::string path, dev_t dev, ino_t ino) : path_(std::move(path)), dev_(dev), ino_(ino) {}
  SocketFile(SocketFile&& other) noexcept;
  SocketFile& operator=(SocketFile&& other) noexcept;
  SocketFile(const SocketFile&) = delete;
  SocketFile& operator=(const SocketFile&) = delete;
  ~SocketFile() { remove(); }

  /// Unlinks the file (once). Idempotent.
  void remove();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

/// A freshly bound socket and the file it created.
struct BoundSocket {
  UniqueFd fd;
  SocketFile file;
};

/// Creates a non-blocking, close-on-exec AF_UNIX socket of `type` (SOCK_DGRAM, SOCK_STREAM, SOCK_SEQPACKET)
/// bound at `path`, listening unless it is SOCK_DGRAM. A stale socket file at `path` is replaced; a live one
/// ("in use"), a non-socket file, an over-long path or an unusable directory throws.
BoundSocket bind_unix_socket(const std::string& path, int type);

/// What an inherited descriptor turned out to be.
struct InheritedSocket {
  int type = 0;            ///< SOCK_DGRAM, SOCK_STREAM or SOCK_SEQPACKET
  bool listening = false;  ///< SO_ACCEPTCONN: accept connections on it
  bool connected = false;  ///< has a peer (getpeername succeeds)
};

/// Checks that `fd` (from `what`, e.g. "fd://3") is an open socket of a supported type. Throws otherwise.
/// Does not take ownership or change the descriptor.
InheritedSocket inspect_inherited_socket(int fd, std::string_view what);

/// Makes `fd` non-blocking and close-on-exec, and applies the platform's per-socket setup. Returns false
/// (errno set) if fcntl fails.
bool prepare_guest_socket(int fd);

/// Asks for `bytes` of send and receive buffer, halving until the kernel accepts (macOS refuses sizes above
/// kern.ipc.maxsockbuf, Linux silently clamps). Best effort.
void set_socket_buffers(int fd, int bytes);

/// The bytes that identify a unix address of `length` bytes: the path without trailing NULs, or "\0name" for
/// a Linux abstract address; empty when the sender is unnamed (cannot be answered). Points into `address`.
std::string_view unix_address_key(const sockaddr_un& address, socklen_t length);

/// A printable form of a unix address of `length` bytes ("/path", "@abstract", "" when unnamed).
std::string describe_unix_address(const sockaddr_un& address, socklen_t length);

}  // namespace vznet::virtio

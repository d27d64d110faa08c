// activated_listeners() (see socket_activation.h).
#include "app/socket_activation.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <spdlog/spdlog.h>

#include "stack/ipv4_address.h"  // parse_decimal

namespace vznet::app {
namespace {

constexpr int kFirstPassedFd = 3;  // SD_LISTEN_FDS_START
/// More would be a mistake in the unit: vznet needs one socket per framing.
constexpr unsigned kMostPassedFds = 64;

std::string take_variable(const char* name) {
  const char* value = std::getenv(name);
  std::string out = value != nullptr ? value : "";
  ::unsetenv(name);
  return out;
}

}  // namespace

std::vector<virtio::ListenUri> activated_listeners() {
  const std::string pid = take_variable("LISTEN_PID");
  const std::string count = take_variable("LISTEN_FDS");
  take_variable("LISTEN_FDNAMES");
  if (pid.empty() && count.empty()) return {};
  const auto for_pid = parse_decimal(pid, 1, 0x7FFFFFFF);
  const auto fds = parse_decimal(count, 1, kMostPassedFds);
  if (!for_pid || !fds) {
    spdlog::warn("socket activation: ignoring LISTEN_PID='{}' LISTEN_FDS='{}' (expected a pid and 1 to {} sockets)",
                 pid, count, kMostPassedFds);
    return {};
  }
  if (static_cast<pid_t>(*for_pid) != ::getpid()) return {};  // meant for another process (our parent)
  std::vector<virtio::ListenUri> uris;
  for (int fd = kFirstPassedFd; fd < kFirstPassedFd + static_cast<int>(*fds); ++fd) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    std::string error;
    const std::string text = "fd://" + std::to_string(fd);
    if (auto uri = virtio::parse_listen_uri(text, error)) uris.push_back(*uri);
  }
  spdlog::info("socket activation: {} socket(s) passed", uris.size());
  return uris;
}

}  // namespace vznet::app

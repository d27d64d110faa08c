// Opening the socket to vznet for the framing named by --connect: connect, big buffers, nonblocking,
// and for unixgram our own bound path (and the optional vfkit greeting). Returns the Link for the framing.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "tools/guest_relay/link.h"
#include "tools/guest_relay/options.h"

namespace vznet::relay {

/// The unixgram socket file the relay bound; removed when this object goes (normal exit or SIGTERM).
class BoundPath {
 public:
  BoundPath() = default;
  ~BoundPath();
  BoundPath(const BoundPath&) = delete;
  BoundPath& operator=(const BoundPath&) = delete;
  void set(std::string path) { path_ = std::move(path); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Connects to vznet. Throws std::runtime_error with one sentence naming the path on failure.
std::unique_ptr<Link> connect_to_vznet(const Options& options, BoundPath& local);

}  // namespace vznet::relay

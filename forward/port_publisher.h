// The set of published ports (-p and the control API's /forwards): each forward is one PublishSpec bound to
// one or more host ports. Adding binds every port or none; removing closes them. Listing reports what is
// bound now (the actual host port where the spec left it to the OS).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "forward/publish_spec.h"
#include "forward/published_port.h"

namespace vznet::forward {

using ForwardId = std::uint32_t;

/// One published pair as bound: host port -> guest port.
struct BoundPort {
  std::uint16_t host_port = 0;
  std::uint16_t guest_port = 0;
};

struct ForwardInfo {
  ForwardId id = 0;
  PublishSpec spec;              ///< as requested
  std::vector<BoundPort> ports;  ///< as bound
};

class PortPublisher {
 public:
  explicit PortPublisher(PublishEnvironment env);
  ~PortPublisher();

  /// Binds every host port of `spec` and starts serving them; on any failure nothing stays bound and
  /// std::runtime_error says which address and port could not be bound, and why.
  ForwardInfo add(const PublishSpec& spec);
  /// Closes forward `id`; false if there is none.
  bool remove(ForwardId id);
  std::vector<ForwardInfo> list() const;
  /// Closes every forward (shutdown).
  void clear() { forwards_.clear(); }

 private:
  struct Forward {
    ForwardInfo info;
    std::vector<std::unique_ptr<PublishedPort>> ports;
  };
  std::unique_ptr<PublishedPort> bind_one(const PublishSpec& spec, std::uint16_t host_port, std::uint16_t guest_port);

  PublishEnvironment env_;
  ForwardId next_id_ = 1;
  std::map<ForwardId, Forward> forwards_;
};

}  // namespace vznet::forward

// The host's own IPv4 addresses (every interface, up or not), for --block-private: a guest must not reach the
// host's services through the host's LAN address either. POSIX getifaddrs(), so Linux and macOS alike.
#pragma once

#include <vector>

#include "stack/ipv4_address.h"

namespace vznet::app {

/// The IPv4 addresses of the host's interfaces, loopback included (the policy skips those). Throws
/// std::system_error if the interfaces cannot be listed.
std::vector<Ipv4Address> host_ipv4_addresses();

}  // namespace vznet::app

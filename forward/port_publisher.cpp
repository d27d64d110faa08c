// PortPublisher: add, remove and list published ports (see port_publisher.h).
#include "forward/port_publisher.h"

#include <stdexcept>
#include <system_error>

#include <spdlog/spdlog.h>

namespace vznet::forward {

namespace {

std::string host_text(const asio::ip::address& address, std::uint16_t port) {
  const std::string ip = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return port == 0 ? ip : ip + ":" + std::to_string(port);
}

}  // namespace

PortPublisher::PortPublisher(PublishEnvironment env) : env_(std::move(env)) {}

PortPublisher::~PortPublisher() = default;

std::unique_ptr<PublishedPort> PortPublisher::bind_one(const PublishSpec& spec, std::uint16_t host_port,
                                                       std::uint16_t guest_port) {
  try {
    return std::make_unique<PublishedPort>(env_, spec.protocol, spec.host_address, host_port, spec.guest_address,
                                           guest_port);
  } catch (const std::system_error& e) {
    std::string why = e.code().message();
    if (e.code() == std::errc::permission_denied && host_port < 1024) {
      why += " (ports below 1024 need privileges)";
    } else if (e.code() == std::errc::address_not_available) {
      why += " (not an address of this host)";
    }
    throw std::runtime_error("cannot bind " + host_text(spec.host_address, host_port) + "/" +
                             std::string(to_string(spec.protocol)) + ": " + why);
  }
}

ForwardInfo PortPublisher::add(const PublishSpec& spec) {
  Forward forward;
  forward.info.spec = spec;
  if (spec.host_port_pick_one()) {
    std::string last_error;
    for (std::uint32_t port = spec.host_ports.first; port <= spec.host_ports.last && forward.ports.empty(); ++port) {
      try {
        forward.ports.push_back(bind_one(spec, static_cast<std::uint16_t>(port), spec.guest_ports.first));
      } catch (const std::runtime_error& e) {
        last_error = e.what();
      }
    }
    if (forward.ports.empty()) {
      throw std::runtime_error("no free port in " + host_text(spec.host_address, 0) + ":" +
                               std::to_string(spec.host_ports.first) + "-" + std::to_string(spec.host_ports.last) +
                               " (last error: " + last_error + ")");
    }
    forward.info.ports.push_back({forward.ports.back()->host_port(), spec.guest_ports.first});
  } else {
    for (std::size_t i = 0; i < spec.pair_count(); ++i) {
      const auto guest_port = static_cast<std::uint16_t>(spec.guest_ports.first + i);
      const auto host_port =
          spec.host_port_any() ? std::uint16_t{0} : static_cast<std::uint16_t>(spec.host_ports.first + i);
      forward.ports.push_back(bind_one(spec, host_port, guest_port));  // a throw unbinds the earlier ones
      forward.info.ports.push_back({forward.ports.back()->host_port(), guest_port});
    }
  }
  forward.info.id = next_id_++;
  for (auto& port : forward.ports) port->start();
  for (const BoundPort& bound : forward.info.ports) {
    spdlog::info("published {}/{} -> guest {}:{} (forward {})", host_text(spec.host_address, bound.host_port),
                 to_string(spec.protocol),
                 spec.guest_address ? spec.guest_address->to_string() : std::string("first guest"), bound.guest_port,
                 forward.info.id);
  }
  ForwardInfo info = forward.info;
  forwards_.emplace(info.id, std::move(forward));
  return info;
}

bool PortPublisher::remove(ForwardId id) {
  auto it = forwards_.find(id);
  if (it == forwards_.end()) return false;
  spdlog::info("unpublished forward {} ({})", id, it->second.info.spec.to_string());
  forwards_.erase(it);
  return true;
}

std::vector<ForwardInfo> PortPublisher::list() const {
  std::vector<ForwardInfo> out;
  out.reserve(forwards_.size());
  for (const auto& [id, forward] : forwards_) out.push_back(forward.info);
  return out;
}

}  // namespace vznet::forward

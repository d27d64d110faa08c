// The control API's endpoints: JSON views of the running vznet (/stats, /leases, /flows, /forwards) and the
// one change it accepts at run time (adding and removing published ports). The HTTP transport is
// control_api.h's; every handler here runs on the loop thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "app/control_api.h"
#include "forward/publish_spec.h"

namespace vznet::app {

class Runtime;

/// Registers every endpoint of the API on `api` (before api.start()). `runtime` must outlive `api`.
void register_api_routes(ControlApi& api, Runtime& runtime);

/// The PublishSpec a POST /forwards body asks for: {"spec": "0.0.0.0:8080:80/tcp"} (the -p syntax), or the
/// same as fields: {"host_address"?, "host_port"?, "guest_address"?, "guest_port", "protocol"?}, where ports
/// are numbers or "FIRST-LAST" strings. Throws std::invalid_argument saying what is wrong.
forward::PublishSpec publish_spec_from_json(const nlohmann::json& body);

}  // namespace vznet::app

// Fuzz target: the control API's POST /forwards body (app/api_routes publish_spec_from_json on the JSON that
// control_api parses from the request body). The input is the body. Whatever it holds, the handler's outcome is
// a spec or a refusal it turns into a 400 (std::invalid_argument or a json::exception), never anything else; a
// spec it accepts has a canonical form that parses back to it.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "app/api_routes.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using vznet::fuzz::check;
  if (size > 4096) return 0;
  const nlohmann::json body = nlohmann::json::parse(data, data + size, nullptr, false);
  if (body.is_discarded()) return 0;
  vznet::forward::PublishSpec spec;
  try {
    spec = vznet::app::publish_spec_from_json(body);
  } catch (const std::invalid_argument&) {
    return 0;
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  check(vznet::forward::parse_publish_spec(spec.to_string()) == spec, "an accepted spec does not read back");
  return 0;
}

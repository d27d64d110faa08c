// Fuzz target: the -p / POST /forwards spec parser (forward/publish_spec). The input is one spec as text. A spec
// that parses must keep its promises: ports in range, equal-length or pick-one ranges, and a canonical to_string()
// that parses back to an equal spec. A refusal is std::invalid_argument and nothing else.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "forward/publish_spec.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vznet::forward;
  using vznet::fuzz::check;
  if (size > 512) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  PublishSpec spec;
  try {
    spec = parse_publish_spec(text);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  check(spec.guest_ports.first >= 1 && spec.guest_ports.first <= spec.guest_ports.last, "guest ports");
  check(spec.host_port_any() ? spec.host_ports.last == 0 : spec.host_ports.first <= spec.host_ports.last, "host ports");
  check(spec.host_port_any() || spec.host_port_pick_one() || spec.host_ports.size() == spec.guest_ports.size(),
        "host and guest ranges of different lengths");
  const std::string canonical = spec.to_string();
  PublishSpec again;
  try {
    again = parse_publish_spec(canonical);
  } catch (const std::invalid_argument& e) {
    check(false, "the canonical form does not parse");
  }
  check(again == spec, "the canonical form parses to another spec");
  check(again.to_string() == canonical, "the canonical form is not stable");
  return 0;
}

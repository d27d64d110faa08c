// Fuzz target: the command line (app/config.cpp): argv -> Config, CLI11's parse and every check vznet makes on
// its flags (-p specs, --dns-record, egress rules, addresses, subnets, DHCP, limits). The input is argv after
// "vznet", one word per line (a newline or a NUL ends a word; a real argv word can hold neither a NUL nor, from
// a shell, usually a newline). parse_command_line() must end in one of three ways, and nothing else:
//   - a Config (exit code 0) whose every value is within the range README's flag table documents, whose DHCP
//     part passes DhcpConfig::validate() (what DhcpServer insists on) and whose specs and rules read back;
//   - help or the version (exit code 0, no Config, text to print);
//   - one error line "vznet: ..." with exit code 2.
// Never an exception, an exit() (libFuzzer reports an exit as a crash), or output: CLI11 prints only when asked
// (App::exit), and the parse must leave that to main(), so std::cout and std::cerr are watched during it.
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace vznet;
using vznet::fuzz::check;

/// Words from the input: split at '\n' and '\0'. Empty words are kept (an empty argument is legal argv).
std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n' || text[i] == '\0') {
      out.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  if (!out.empty() && out.back().empty()) out.pop_back();  // a trailing newline ends the last word
  return out;
}

/// Captures what a stream receives while it lives.
class Watch {
 public:
  explicit Watch(std::ostream& stream) : stream_(stream), saved_(stream.rdbuf(captured_.rdbuf())) {}
  ~Watch() { stream_.rdbuf(saved_); }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  bool silent() const { return captured_.str().empty(); }

 private:
  std::ostream& stream_;
  std::ostringstream captured_;
  std::streambuf* saved_;
};

template <class T>
bool within(T value, T low, T high) {
  return value >= low && value <= high;
}

void check_config(const app::Config& c) {
  check(within<int>(c.mtu, 576, 65520), "--mtu out of range");
  check(within<std::size_t>(c.forward.max_flows, 1, 1000000), "--max-flows out of range");
  check(within<std::size_t>(c.forward.max_flows_per_guest, 1, 1000000), "--max-flows-per-guest out of range");
  check(within<std::size_t>(c.forward.max_flows_per_published_port, 1, 1000000),
        "--max-flows-per-published-port out of range");
  check(within<std::size_t>(c.forward.max_pending_dials, 1, 65536), "--max-pending-connects out of range");
  check(within<long long>(c.forward.connect_timeout.count(), 1, 600), "--connect-timeout out of range");
  check(within<long long>(c.forward.tcp_idle_timeout.count(), 1, 30 * 86400), "--tcp-timeout out of range");
  check(within<long long>(c.forward.udp_idle_timeout.count(), 1, 86400), "--udp-timeout out of range");
  check(within<long long>(c.dhcp.lease_time.count(), 60, 365 * 86400), "--lease-time out of range");
  static const std::vector<std::string_view> kLevels{"trace", "debug", "info", "warn", "error", "critical", "off"};
  bool level_known = false;
  for (auto level : kLevels) level_known = level_known || c.log_level == level;
  check(level_known, "--log-level not one of the documented levels");

  // The subnet leaves room for a gateway and a guest, and everything downstream agrees with it.
  check(c.subnet.prefix_length <= 30, "--subnet narrower than /30");
  check(Ipv4Subnet::parse(c.subnet.to_string()) == c.subnet, "the subnet does not read back");
  check(c.subnet.contains(c.gateway()) && c.subnet.contains(c.first_guest()), "gateway or first guest outside");
  check(c.gateway() != c.subnet.network && c.gateway() != c.subnet.broadcast(), "the gateway is not a host");
  check(c.dhcp.subnet == c.subnet && c.dhcp.gateway == c.gateway() && c.dhcp.dns_server == c.gateway() &&
            c.dhcp.mtu == c.mtu,
        "the DHCP config does not follow --subnet and --mtu");
  check(!c.dhcp.validate().has_value(), "a Config whose DHCP part DhcpServer would refuse");
  check(c.dns.gateway == c.gateway(), "the DNS server is not on the gateway");

  for (const auto& uri : c.listen) {
    std::string error;
    const auto again = virtio::parse_listen_uri(uri.text, error);
    check(again && again->kind == uri.kind && again->path == uri.path && again->fd == uri.fd,
          "a --listen URI does not read back");
    check(uri.kind == virtio::ListenUri::Kind::fd ? uri.fd >= 0 : !uri.path.empty(), "a --listen URI with no target");
  }
  for (const auto& record : c.dns.records) {
    check(!record.name.empty() && record.name.size() <= 253 && record.name.back() != '.', "a --dns-record name");
    for (char ch : record.name) check(!(ch >= 'A' && ch <= 'Z'), "a --dns-record name not folded to lower case");
    const auto again = dns::parse_dns_record(record.name + "=" + record.address.to_string());
    check(again && *again == record, "a --dns-record does not read back");
  }
  for (const auto& spec : c.publish) {
    check(spec.guest_ports.first >= 1 && spec.guest_ports.first <= spec.guest_ports.last, "-p guest ports");
    forward::PublishSpec again;
    try {
      again = forward::parse_publish_spec(spec.to_string());
    } catch (const std::invalid_argument&) {
      check(false, "a -p spec's canonical form does not parse");
    }
    check(again == spec, "a -p spec does not read back");
  }
  for (const auto& rule : c.forward.egress.rules()) {
    check(rule.text == rule.canonical_text(), "an egress rule's text is not canonical");
    check(rule.first_port <= rule.last_port, "an egress rule's port range is reversed");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = vznet::fuzz::quiet_logs();
  (void)quiet;
  if (size > 4096) return 0;
  std::vector<std::string> args = words({reinterpret_cast<const char*>(data), size});
  if (args.size() > 256) return 0;
  args.insert(args.begin(), "vznet");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());

  app::ParseOutcome outcome;
  {
    Watch out(std::cout), err(std::cerr);
    try {
      outcome = app::parse_command_line(static_cast<int>(argv.size()), argv.data());
    } catch (...) {
      check(false, "parse_command_line threw");
    }
    check(out.silent() && err.silent(), "parse_command_line printed");
  }

  if (outcome.config) {
    check(outcome.exit_code == 0 && outcome.message.empty(), "a Config with an exit code or a message");
    check_config(*outcome.config);
  } else if (outcome.exit_code == 0) {
    check(!outcome.message.empty(), "neither a Config nor help nor an error");
  } else {
    check(outcome.exit_code == 2, "an error whose exit code is not 2");
    check(outcome.message.rfind("vznet: ", 0) == 0, "an error that does not start with \"vznet: \"");
    check(outcome.message.find('\n') == std::string::npos, "an error of more than one line");
  }
  return 0;
}

// Command-line parsing and validation with CLI11 (see config.h). Every rule a flag must satisfy is checked
// here, so the rest of vznet can trust its Config.
#include "app/config.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

namespace vznet::app {

namespace {

constexpr std::uint16_t kMinMtu = 576;     // the smallest datagram every IPv4 host must accept
constexpr std::uint16_t kMaxMtu = 65520;   // 65535 minus room for headers, as QEMU/passt allow

const char* const kDescription =
    "vznet: a user-space network for virtual machines. The guest's NIC frames arrive on a socket; vznet\n"
    "answers as the gateway and proxies every connection through ordinary host sockets (no root needed).";

const char* const kFooter =
    "Listen URIs:\n"
    "  unixgram://PATH    vfkit / VZFileHandleNetworkDeviceAttachment / QEMU -netdev dgram: one frame per datagram\n"
    "  unix://PATH        QEMU -netdev stream: 4-byte big-endian length, then the frame\n"
    "  unixpacket://PATH  BESS: one frame per SOCK_SEQPACKET message\n"
    "  fd://N             an inherited socket; its type decides the framing\n"
    "Without --listen, vznet serves unix://DIR/vznet.sock and unixgram://DIR/vznet-dgram.sock in\n"
    "$XDG_RUNTIME_DIR/vznet (or /tmp/vznet-UID) and logs the QEMU and vfkit arguments to attach.\n"
    "The gateway is the subnet's first address; it reaches the host's loopback (127.0.0.1).";

}  // namespace

std::string default_socket_directory() {
  if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime != nullptr && *runtime != '\0') {
    return std::string(runtime) + "/vznet";
  }
  return "/tmp/vznet-" + std::to_string(::getuid());
}

std::vector<virtio::ListenUri> default_listen_uris(const std::string& directory) {
  std::vector<virtio::ListenUri> uris;
  for (const char* text : {"unix://", "unixgram://"}) {
    std::string error;
    const char* file = std::string_view(text) == "unix://" ? "/vznet.sock" : "/vznet-dgram.sock";
    uris.push_back(*virtio::parse_listen_uri(std::string(text) + directory + file, error));
  }
  return uris;
}

ParseOutcome parse_command_line(int argc, const char* const* argv) {
  Config config;
  std::vector<std::string> listen_texts;
  std::string subnet_text = config.subnet.to_string();
  unsigned connect_timeout = 10, tcp_timeout = 86400, udp_timeout = 60;

  CLI::App cli{kDescription, "vznet"};
  cli.footer(kFooter);
  cli.set_version_flag("--version", "vznet 0.1.0");
  cli.add_option("--listen", listen_texts, "Guest socket URI (repeatable); see below")->type_name("URI");
  cli.add_option("--subnet", subnet_text, "Guest subnet; gateway is .1, first guest .2")
      ->capture_default_str()->type_name("CIDR");
  cli.add_option("--mtu", config.mtu, "Guest link MTU")->capture_default_str()->check(CLI::Range(kMinMtu, kMaxMtu));
  cli.add_option("--log-level", config.log_level, "trace, debug, info, warn, error, critical or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  cli.add_option("--max-flows", config.max_flows, "Most TCP+UDP+ICMP flows at once; new ones are refused beyond")
      ->capture_default_str()->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  cli.add_option("--connect-timeout", connect_timeout, "Seconds a host TCP connect may take")
      ->capture_default_str()->check(CLI::Range(1u, 600u));
  cli.add_option("--tcp-timeout", tcp_timeout, "Seconds an idle TCP flow is kept")
      ->capture_default_str()->check(CLI::Range(1u, 30u * 86400u));
  cli.add_option("--udp-timeout", udp_timeout, "Seconds an idle UDP flow is kept")
      ->capture_default_str()->check(CLI::Range(1u, 86400u));
  cli.add_flag("--exit-on-disconnect", config.exit_on_disconnect,
               "Exit when a guest disconnects (gvproxy's behaviour), instead of waiting for the next");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return {std::nullopt, 0, cli.help()};
  } catch (const CLI::CallForVersion&) {
    return {std::nullopt, 0, "vznet 0.1.0\n"};
  } catch (const CLI::ParseError& e) {
    return {std::nullopt, 2, std::string("vznet: ") + e.what()};
  }

  std::string error;
  auto subnet = Ipv4Subnet::parse(subnet_text, &error);
  if (!subnet) return {std::nullopt, 2, "vznet: --subnet " + subnet_text + ": " + error};
  if (subnet->prefix_length > 30) {
    return {std::nullopt, 2, "vznet: --subnet " + subnet_text + ": need at least /30 (a gateway and a guest)"};
  }
  config.subnet = *subnet;
  for (const auto& text : listen_texts) {
    auto uri = virtio::parse_listen_uri(text, error);
    if (!uri) return {std::nullopt, 2, "vznet: --listen " + text + ": " + error};
    config.listen.push_back(*uri);
  }
  config.connect_timeout = std::chrono::seconds(connect_timeout);
  config.tcp_timeout = std::chrono::seconds(tcp_timeout);
  config.udp_timeout = std::chrono::seconds(udp_timeout);
  return {config, 0, {}};
}

}  // namespace vznet::app

// parse_listen_uri: the pure half of listener.h. Turns "scheme://rest" into a ListenUri or one clear error.
// Opening the endpoint lives in listener.cpp.
#include <array>
#include <charconv>
#include <climits>

#include "virtio/listener.h"

namespace vznet::virtio {
namespace {

struct Scheme {
  std::string_view prefix;
  ListenUri::Kind kind;
};
constexpr std::array<Scheme, 4> kSchemes{{
    {"unixgram://", ListenUri::Kind::unixgram},
    {"unixpacket://", ListenUri::Kind::unixpacket},
    {"unix://", ListenUri::Kind::unix_stream},
    {"fd://", ListenUri::Kind::fd},
}};

}  // namespace

std::optional<ListenUri> parse_listen_uri(std::string_view text, std::string& error) {
  const std::string quoted = "'" + std::string(text) + "'";
  for (const Scheme& scheme : kSchemes) {
    if (!text.starts_with(scheme.prefix)) continue;
    const std::string_view rest = text.substr(scheme.prefix.size());
    ListenUri uri;
    uri.kind = scheme.kind;
    uri.text = std::string(text);
    if (scheme.kind != ListenUri::Kind::fd) {
      if (rest.empty()) {
        error = "listen address " + quoted + " has an empty socket path";
        return std::nullopt;
      }
      if (rest.find('\0') != std::string_view::npos) {
        error = "listen address " + quoted + " contains a NUL byte";
        return std::nullopt;
      }
      uri.path = std::string(rest);
      return uri;
    }
    int fd = -1;
    const char* end = rest.data() + rest.size();
    const auto [ptr, ec] = std::from_chars(rest.data(), end, fd);
    if (rest.empty() || ec != std::errc{} || ptr != end || fd < 0) {
      error = "listen address " + quoted + " needs a non-negative file descriptor number (fd://N)";
      return std::nullopt;
    }
    uri.fd = fd;
    return uri;
  }
  error = "listen address " + quoted + " has an unknown scheme (expected unixgram://, unix://, unixpacket:// or fd://)";
  return std::nullopt;
}

}  // namespace vznet::virtio

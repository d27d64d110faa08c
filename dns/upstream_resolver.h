// The seam between the DNS server and whatever answers forwarded queries: c-ares in vznet (cares_resolver.h),
// a scripted fake in tests. Raw messages in, raw messages out; the server owns IDs and the guest's view.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

namespace vznet::dns {

/// Why the upstream gave no answer. The guest hears SERVFAIL for each; the kinds are for counters and logs.
enum class UpstreamError : std::uint8_t {
  none,         ///< an answer arrived (whatever its RCODE)
  timeout,      ///< no server answered in time
  unreachable,  ///< every server refused or could not be reached
  failed,       ///< anything else (bad answer, no servers configured, out of memory)
};

class UpstreamResolver {
 public:
  /// Receives the answer (with the ID of the query as sent) or an error; `answer` is valid during the call.
  using Callback = std::function<void(UpstreamError error, std::span<const std::uint8_t> answer)>;

  virtual ~UpstreamResolver() = default;
  /// Sends `query` (a complete DNS message; its ID is used as is) to the upstream servers. `done` runs
  /// exactly once, on the loop thread, possibly before send() returns; never after the resolver is destroyed.
  virtual void send(std::span<const std::uint8_t> query, Callback done) = 0;
};

}  // namespace vznet::dns

// vznet-guest-relay: attaches a Linux tap device to vznet's guest socket so the kernel behind the tap (in a
// test network namespace) is a real guest. Flags in options.h, socket set-up in vznet_socket.cpp, the loop
// in relay.cpp. Exit: 0 on SIGTERM/SIGINT or when vznet closes the connection, 1 on errors, 2 on bad flags.
#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "tools/guest_relay/options.h"
#include "tools/guest_relay/relay.h"
#include "tools/guest_relay/tap_linux.h"
#include "tools/guest_relay/vznet_socket.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int signo) { g_stop = signo; }

// Blocks the stop signals (they are taken only inside ppoll, so no wake-up is lost) and returns the mask
// ppoll waits with.
sigset_t install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int signo : {SIGTERM, SIGINT, SIGHUP}) {
    ::sigaction(signo, &sa, nullptr);
    sigaddset(&stop_signals, signo);
  }
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t previous;
  ::sigprocmask(SIG_BLOCK, &stop_signals, &previous);
  for (int signo : {SIGTERM, SIGINT, SIGHUP}) sigdelset(&previous, signo);
  return previous;
}

void print_summary(const vznet::relay::Tap& tap, const std::string& how) {
  const auto& c = tap.counters();
  std::fprintf(stderr,
               "vznet-guest-relay: %s; tap->vznet %llu frames %llu bytes, vznet->tap %llu frames %llu bytes, "
               "dropped %llu (tap down) %llu (tap error)\n",
               how.c_str(), static_cast<unsigned long long>(c.frames_read),
               static_cast<unsigned long long>(c.bytes_read), static_cast<unsigned long long>(c.frames_written),
               static_cast<unsigned long long>(c.bytes_written), static_cast<unsigned long long>(c.dropped_down),
               static_cast<unsigned long long>(c.dropped_error));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vznet::relay;
  std::string error;
  auto options = parse_options({argv + 1, static_cast<std::size_t>(argc > 0 ? argc - 1 : 0)}, error);
  if (!options) {
    std::fprintf(stderr, "vznet-guest-relay: %s\n", error.c_str());
    return 2;
  }
  if (options->help) {
    std::fputs(usage(), stdout);
    return 0;
  }
  sigset_t wait_mask = install_signal_handlers();
  try {
    Tap tap(options->tap, options->mtu, options->offload);
    BoundPath local;
    auto link = connect_to_vznet(*options, local);
    std::fprintf(stderr, "vznet-guest-relay: tap %s <-> %s%s%s\n", tap.name().c_str(), options->connect_text.c_str(),
                 local.path().empty() ? "" : " from ", local.path().c_str());
    RelayEnd end = run_relay(tap, *link, wait_mask, g_stop);
    print_summary(tap, end.exit_code == 0 ? "exiting: " + end.message : "error: " + end.message);
    return end.exit_code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vznet-guest-relay: %s\n", e.what());
    return 1;
  }
}

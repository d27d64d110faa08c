// The relay loop (see relay.h). Theory of operation:
//  - tap -> vznet: while the link has room, frames are read from the tap (one read() each, until EAGAIN)
//    straight into the link's queue, then flushed in one send()/sendmmsg(). When the link's queue is at
//    its bound the tap is not polled for input: the guest kernel's tap queue holds (or drops) the rest,
//    which is what a congested NIC does.
//  - vznet -> tap: frames are received in batches and written to the tap one by one. If the tap refuses
//    (EAGAIN) the undelivered frames stay in the link and the socket is not read until the tap is writable.
#include "tools/guest_relay/relay.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include <poll.h>

namespace vznet::relay {
namespace {

// Fill-and-flush rounds per wake-up from the tap, so that vznet->tap traffic gets its turn too.
constexpr int kTapRoundsPerTurn = 4;
// How often a peer that cannot report EOF (unixgram) is checked.
constexpr auto kPeerCheckInterval = std::chrono::seconds(1);

bool finished(IoStatus st) { return st == IoStatus::closed || st == IoStatus::failed; }

// Moves frames tap -> link. Returns the link's status after the last flush.
IoStatus pump_tap(Tap& tap, Link& link) {
  IoStatus st = IoStatus::idle;
  for (int round = 0; round < kTapRoundsPerTurn; ++round) {
    bool tap_empty = false;
    while (link.has_room()) {
      std::size_t n = tap.read_frame(link.frame_slot());
      if (n == 0) {
        tap_empty = true;
        break;
      }
      link.commit_frame(n);
    }
    st = link.flush();
    if (finished(st) || tap_empty || link.has_output()) break;
  }
  return st;
}

RelayEnd ended(IoStatus st, const Link& link) { return {st == IoStatus::closed ? 0 : 1, link.reason()}; }

}  // namespace

RelayEnd run_relay(Tap& tap, Link& link, const sigset_t& wait_mask, const volatile std::sig_atomic_t& stop) {
  bool tap_blocked = false;  // the tap refused a frame; the link holds it until the tap is writable
  auto next_peer_check = std::chrono::steady_clock::now() + kPeerCheckInterval;
  try {
    while (stop == 0) {
      pollfd fds[2]{};
      fds[0].fd = tap.fd();
      fds[0].events = static_cast<short>((link.has_room() ? POLLIN : 0) | (tap_blocked ? POLLOUT : 0));
      fds[1].fd = link.fd();
      fds[1].events = static_cast<short>((tap_blocked ? 0 : POLLIN) | (link.has_output() ? POLLOUT : 0));
      if (fds[1].events == 0) fds[1].fd = -1;  // nothing wanted: do not wake up for a hang-up either
      timespec timeout{1, 0};
      int n = ::ppoll(fds, 2, &timeout, &wait_mask);
      if (n < 0) {
        if (errno == EINTR) continue;
        return {1, std::string("ppoll: ") + std::strerror(errno)};
      }
      if (fds[0].revents & (POLLERR | POLLNVAL)) return {1, "tap " + tap.name() + " reported an error"};

      if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) || (fds[0].revents & POLLOUT)) {
        IoStatus st = link.receive(tap);
        if (finished(st)) return ended(st, link);
        tap_blocked = st == IoStatus::sink_blocked;
      }
      if (fds[0].revents & POLLIN) {
        if (IoStatus st = pump_tap(tap, link); finished(st)) return ended(st, link);
      }
      if (fds[1].revents & POLLOUT) {
        if (IoStatus st = link.flush(); finished(st)) return ended(st, link);
      }
      if (auto now = std::chrono::steady_clock::now(); now >= next_peer_check) {
        next_peer_check = now + kPeerCheckInterval;
        if (IoStatus st = link.check_peer(); finished(st)) return ended(st, link);
      }
    }
  } catch (const std::runtime_error& e) {
    return {1, e.what()};
  }
  return {0, std::string("stopped by signal ") + sigabbrev_np(stop)};
}

}  // namespace vznet::relay

// How an owner of an lwIP TCP pcb lets go of it, written once. Every owner (a forwarded flow, a DNS-over-TCP
// connection, the stack at shutdown) detaches its callbacks before it closes or aborts: lwIP may call back from
// inside tcp_close()/tcp_abort() or later from its timers, and must then find no owner rather than a freed one.
#pragma once

#include "lwip/tcp.h"

namespace vznet::stack {

/// Clears the argument and every callback vznet sets: lwIP calls nothing of the old owner for `pcb` afterwards.
inline void detach_tcp_callbacks(tcp_pcb* pcb) {
  tcp_arg(pcb, nullptr);
  tcp_recv(pcb, nullptr);  // with no receive callback lwIP discards what still arrives and completes a close
  tcp_sent(pcb, nullptr);
  tcp_err(pcb, nullptr);
}

/// Detaches, then resets the connection (RST to the guest); lwIP frees `pcb` before this returns.
inline void abort_tcp_pcb(tcp_pcb* pcb) {
  detach_tcp_callbacks(pcb);
  tcp_abort(pcb);
}

/// Detaches, then closes gracefully (FIN to the guest); lwIP owns and later frees `pcb`. Returns false when lwIP
/// could not queue the FIN (no memory) and the connection was aborted instead.
inline bool close_tcp_pcb(tcp_pcb* pcb) {
  detach_tcp_callbacks(pcb);
  if (tcp_close(pcb) == ERR_OK) return true;
  tcp_abort(pcb);
  return false;
}

}  // namespace vznet::stack

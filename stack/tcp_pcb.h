// How an owner of an lwIP TCP pcb lets go of it, written once, and the flow key of an accepted pcb. Every owner (a
// forwarded flow, a DNS-over-TCP connection, the stack at shutdown) detaches its callbacks before it closes or aborts:
// lwIP may call back from inside tcp_close()/tcp_abort() or later from its timers, and must then find no owner rather
// than a freed one.
#pragma once

#include "lwip/tcp.h"
#include "stack/flow_key.h"
#include "stack/lwip_address.h"

namespace vznet::stack {

/// The key of a connection the guest opened and lwIP accepted: the guest's end is the pcb's remote one.
inline FlowKey guest_tcp_key(const tcp_pcb* pcb) {
  return {IpProtocol::tcp, {from_lwip(pcb->remote_ip), pcb->remote_port}, {from_lwip(pcb->local_ip), pcb->local_port}};
}

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

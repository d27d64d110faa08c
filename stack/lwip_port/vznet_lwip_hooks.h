/* The C entry points lwIP calls into vznet (named in lwipopts.h). The catch-all's are in stack/catch_all.cpp
 * (forwarded to the one Stack instance), the ISN in stack/tcp_isn.cpp, the IPv4 identification in stack/ip4_id.cpp.
 * Nothing else belongs here. */
#ifndef VZNET_LWIP_HOOKS_H
#define VZNET_LWIP_HOOKS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pbuf;
struct netif;
struct tcp_pcb_listen;
struct udp_pcb;
struct ip4_addr; /* ip_addr_t while lwIP is built without IPv6 */

/** Sees every IPv4 packet first; returns 1 when vznet consumed (and freed) it. */
int vznet_hook_ip4_input(struct pbuf *p, struct netif *input_netif);
/** The catch-all TCP listener, or NULL before the stack created it. */
struct tcp_pcb_listen *vznet_hook_tcp_listen_fallback(void);
/** The catch-all UDP pcb, or NULL before the stack created it. */
struct udp_pcb *vznet_hook_udp_fallback_pcb(void);
/** RFC 6528 initial sequence number for a new connection (stack/tcp_isn.h). */
uint32_t vznet_hook_tcp_isn(const struct ip4_addr *local_ip, uint16_t local_port, const struct ip4_addr *remote_ip,
                            uint16_t remote_port);
/** The IPv4 identification of the next packet to `destination` (stack/ip4_id.h). */
uint16_t vznet_hook_ip4_id(const struct ip4_addr *destination);

#ifdef __cplusplus
}
#endif

#endif /* VZNET_LWIP_HOOKS_H */

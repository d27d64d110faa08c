/* The C entry points lwIP calls into vznet (named in lwipopts.h). Implemented in stack/lwip_hooks.cpp,
 * which forwards each to the one Stack instance. Nothing else belongs here. */
#ifndef VZNET_LWIP_HOOKS_H
#define VZNET_LWIP_HOOKS_H

#ifdef __cplusplus
extern "C" {
#endif

struct pbuf;
struct netif;
struct tcp_pcb_listen;
struct udp_pcb;

/** Sees every IPv4 packet first; returns 1 when vznet consumed (and freed) it. */
int vznet_hook_ip4_input(struct pbuf *p, struct netif *input_netif);
/** The catch-all TCP listener, or NULL before the stack created it. */
struct tcp_pcb_listen *vznet_hook_tcp_listen_fallback(void);
/** The catch-all UDP pcb, or NULL before the stack created it. */
struct udp_pcb *vznet_hook_udp_fallback_pcb(void);

#ifdef __cplusplus
}
#endif

#endif /* VZNET_LWIP_HOOKS_H */

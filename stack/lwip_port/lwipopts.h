/* lwIP options for vznet. Owns every compile-time choice of the embedded stack; each non-default value says
 * why. Runtime values (MTU, addresses) are set on the netif by stack/, not here. */
#ifndef VZNET_LWIPOPTS_H
#define VZNET_LWIPOPTS_H

/* ---- System: one thread, raw API only (STYLE: one io_context owns lwIP). ---- */
#define NO_SYS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define SYS_LIGHTWEIGHT_PROT 0 /* nothing runs concurrently with lwIP: no locks */
#define LWIP_SINGLE_NETIF 1    /* one guest netif; ip4_route() becomes trivial */

/* ---- Memory: from malloc, so memory follows use (idle vznet is small, 10k flows still fit). ----
 * Pools would reserve the worst case up front; the real bounds are vznet's named per-flow limits
 * (TCP_WND, TCP_SND_BUF below, --max-flows). */
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT 8

/* ---- Protocols ---- */
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define ARP_TABLE_SIZE 64      /* one entry per attached guest; 10 (default) is too few for a shared switch */
#define ARP_QUEUEING 1
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define IP_FORWARD 0           /* we terminate, never route */
#define IP_REASSEMBLY 1        /* guests may fragment large UDP datagrams */
#define IP_FRAG 1              /* host replies larger than the MTU still reach the guest */
#define IP_REASS_MAX_PBUFS 256 /* bounds reassembly memory: 256 fragments of at most one MTU each */
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 0            /* lwIP's DHCP is a client; vznet's DHCP server lives in stack/ */
/* DHCP server: clients without an address send from 0.0.0.0, which ip4_input() drops as an invalid
 * (broadcast) source unless link-layer addressed ports are enabled. Naming port 67 here enables them; the
 * side effect is that 0.0.0.0 is accepted as a source for every packet, as lwIP's own DHCP would have it. */
#define LWIP_IP_ACCEPT_UDP_PORT(port) ((port) == PP_NTOHS(67))
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define LWIP_NETIF_LOOPBACK 0
#define LWIP_STATS 0           /* vznet counts what operators need itself (stack/counters) */

/* ---- TCP: sized for a local link where the bandwidth-delay product is set by the host socket. ----
 * TCP_MSS is the compile-time ceiling (65535 - 40); the MSS actually used comes from the netif MTU
 * (--mtu) through TCP_CALCULATE_EFF_SEND_MSS, so 1500-byte guests get 1460 and 65520-byte guests 65480. */
#define TCP_MSS 65495
#define TCP_CALCULATE_EFF_SEND_MSS 1
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 6                      /* window field * 64: up to 4 MiB advertised */
/* Guest->host: the guest may have this much unacknowledged data in flight; vznet holds it (as pbufs) until
 * the host socket takes it, so this is also the per-flow memory bound in that direction. 2 MiB keeps a
 * 10 Gbit/s stream busy across ~1.6 ms of host-socket stall. */
#define TCP_WND (2 * 1024 * 1024)
/* Host->guest: bytes vznet accepts from the host socket before the guest acknowledges them; reading stops
 * when it is full (backpressure). Same figure and reasoning as TCP_WND. */
#define TCP_SND_BUF (2 * 1024 * 1024)
#define TCP_SND_QUEUELEN 4096                /* >= 2 * TCP_SND_BUF / 1460 (segments at MTU 1500), with room */
#define TCP_SNDQUEUELOWAT (TCP_SND_QUEUELEN / 2)
#define TCP_QUEUE_OOSEQ 1
#define TCP_OOSEQ_MAX_BYTES TCP_WND          /* out-of-order data never exceeds one window */
#define TCP_OOSEQ_MAX_PBUFS 2048
#define TCP_LISTEN_BACKLOG 0
#define LWIP_TCP_KEEPALIVE 0                 /* idle flows are reaped by vznet's own timeouts */
/* TIME_WAIT (and LAST_ACK's limit) last 2 * TCP_MSL. The guest link is a local socket: no segment of an old
 * connection can linger in a network and arrive late, so the 2 minutes of lwIP's default protect nothing,
 * while each pcb a guest leaves there (a server that closes first) is memory outside --max-flows: at 15,000
 * connections a second, 2 minutes held some 1.8 million of them. 2 seconds hold at most 30,000 (~7 MB). The
 * host socket keeps the real TIME_WAIT towards the server. */
#define TCP_MSL 1000UL
#define LWIP_TCP_TIMESTAMPS 0
/* One per-pcb slot, so lwIP tells vznet when it frees a connection vznet has closed (forward/lingering_tcp.h):
 * those count against the flow limits until lwIP is done with them. */
#define LWIP_TCP_PCB_NUM_EXT_ARGS 1
#define TCP_OVERSIZE TCP_MSS
#define LWIP_CALLBACK_API 1
/* init.c's TCP sanity checks assume 16-bit send buffers ("TCP_SNDLOWAT must be 4*MSS below u16 overflow"),
 * which no MTU-65520 configuration can meet; with LWIP_WND_SCALE snd_buf and windows are 32-bit
 * (tcpwnd_size_t), so the check does not apply. The other checks hold for the values above. */
#define LWIP_DISABLE_TCP_SANITY_CHECKS 1

/* ---- Checksums: the link is a local socket, and the guest kernel computed its own checksums; verifying
 * them again costs a pass over every byte and protects nothing (a guest can only corrupt its own data).
 * Generation stays on: guests verify what we send them. ---- */
#define CHECKSUM_CHECK_IP 0
#define CHECKSUM_CHECK_TCP 0
#define CHECKSUM_CHECK_UDP 0
#define CHECKSUM_CHECK_ICMP 0
#define LWIP_CHECKSUM_ON_COPY 1 /* checksum host->guest data while tcp_write() copies it: one pass, not two */
/* lwIP's own checksum adds 16 bits at a time and was the largest single cost of host->guest bytes; ours adds
 * 64 (base/internet_checksum.h), and its copy variant really is one pass (lwIP's is memcpy, then sum). */
#define LWIP_CHKSUM vznet_lwip_chksum
#define LWIP_CHKSUM_COPY(dst, src, len) vznet_lwip_chksum_copy((dst), (src), (len))

/* ---- Netif ---- */
#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_LINK_CALLBACK 0
#define LWIP_NETIF_TX_SINGLE_PBUF 0
#define ETH_PAD_SIZE 0

/* ---- Hooks: vznet's catch-all (see stack/catch_all.cpp for the theory of operation) ---- */
#define LWIP_HOOK_FILENAME "vznet_lwip_hooks.h"
#define LWIP_HOOK_IP4_INPUT(pbuf, input_netif) vznet_hook_ip4_input((pbuf), (input_netif))
#define LWIP_HOOK_IP4_ACCEPT_ANY_UNICAST(netif) 1 /* our only netif is the guest's: accept everything */
#define LWIP_HOOK_TCP_LISTEN_FALLBACK() vznet_hook_tcp_listen_fallback()
#define LWIP_HOOK_UDP_FALLBACK_PCB() vznet_hook_udp_fallback_pcb()

/* Random numbers for ephemeral ports. */
#define LWIP_RAND() vznet_lwip_rand()
/* Initial sequence numbers per RFC 6528 (keyed hash of the 4-tuple plus a clock): 2.1.3's own are a tick
 * counter, so a guest could predict the sequence numbers of other connections. */
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port) \
  vznet_hook_tcp_isn((local_ip), (local_port), (remote_ip), (remote_port))

/* IPv4 identification per destination (patch 0007): one global counter, as in 2.1.3, let a guest count the
 * packets every other guest received. */
#define LWIP_HOOK_IP4_ID(dest) vznet_hook_ip4_id(dest)

/* ---- Byte order: lwIP's own names only ----
 * By default lwip/def.h also defines htons/ntohs/htonl/ntohl as macros for lwip_htons etc. In a C++ file that
 * includes an lwIP header before <netinet/in.h> (through Asio or directly), those macros rename glibc's
 * declarations of the standard functions, which then clash with lwIP's prototypes (different noexcept): clang
 * refuses it, gcc lets it pass. lwIP's sources call lwip_htons() etc. themselves, and vznet does too wherever it
 * handles lwIP's fields (stack/lwip_address.h); the standard names stay the C library's. */
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1

/* ---- Debugging: off; vznet logs through spdlog ---- */
#define LWIP_DEBUG 0

#endif /* VZNET_LWIPOPTS_H */

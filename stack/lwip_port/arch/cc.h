/* lwIP's compiler/platform adaptation for vznet: standard C types, diagnostics routed to vznet's logger. */
#ifndef VZNET_LWIP_ARCH_CC_H
#define VZNET_LWIP_ARCH_CC_H

#include <stdint.h>
#include <stdlib.h>
#include <errno.h>

#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_STDINCLUDE 1

#ifdef __cplusplus
extern "C" {
#endif
void vznet_lwip_diag(const char *msg);
void vznet_lwip_assert(const char *msg, const char *file, int line);
unsigned int vznet_lwip_rand(void);
uint16_t vznet_lwip_chksum(const void *data, int length);
uint16_t vznet_lwip_chksum_copy(void *destination, const void *source, uint16_t length);
#ifdef __cplusplus
}
#endif

/* The hooks named in lwipopts.h are used by files that do not include LWIP_HOOK_FILENAME (udp.c, tcp_in.c):
 * declare them for every lwIP source, or C would assume they return int and truncate the pointers. */
#include "vznet_lwip_hooks.h"

#define LWIP_PLATFORM_DIAG(x) do { (void)0; } while (0)
#define LWIP_PLATFORM_ASSERT(x) vznet_lwip_assert((x), __FILE__, __LINE__)

#endif /* VZNET_LWIP_ARCH_CC_H */

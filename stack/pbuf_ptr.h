// RAII ownership of an lwIP pbuf chain: one reference, released with pbuf_free.
#pragma once

#include <memory>

#include "lwip/pbuf.h"

namespace vznet::stack {

struct PbufFree {
  void operator()(pbuf* p) const noexcept { pbuf_free(p); }
};
/// Owns one reference to a pbuf chain.
using PbufPtr = std::unique_ptr<pbuf, PbufFree>;

/// Takes an extra reference on `p` and returns it as an owner.
inline PbufPtr share_pbuf(pbuf* p) {
  pbuf_ref(p);
  return PbufPtr{p};
}

}  // namespace vznet::stack

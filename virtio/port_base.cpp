// PortBase (identity, checks, counting, the per-turn flush post, shutdown) and PortSet (ownership, attach/detach
// reporting and logging, deferred destruction).
#include "virtio/port_base.h"

#include <vector>

#include <spdlog/spdlog.h>
#include <asio/post.hpp>

#include "virtio/frame_codec.h"

namespace vznet::virtio {
namespace {
// Unique for the life of the process; one thread, so a plain counter.
PortId next_port_id() {
  static PortId next = 0;
  return ++next;
}
}  // namespace

PortBase::PortBase(const PortContext& context, PortOwner& owner, OutputFraming framing, std::string_view label,
                   std::string_view detail)
    : context_(context), owner_(owner), output_(framing), id_(next_port_id()), release_timer_(context.io) {
  name_ = std::string(label) + "#" + std::to_string(id_);
  if (!detail.empty()) name_ += " (" + std::string(detail) + ")";
}

bool PortBase::send_frame(Frame frame) {
  if (closed_) {
    context_.counters.drops.add(LinkDrop::send_failed);
    return false;
  }
  if (frame.size() > context_.max_frame_size) {
    context_.counters.drops.add(LinkDrop::oversized);
    return false;
  }
  if (!output_.push(frame, kMaxPortQueueBytes)) {
    context_.counters.drops.add(LinkDrop::queue_full);
    return false;
  }
  if (!flush_posted_) {
    flush_posted_ = true;
    asio::post(context_.io, guard_.wrap([this] {
      flush_posted_ = false;
      flush();
    }));
  }
  return true;
}

void PortBase::shutdown() {
  if (closed_) return;
  closed_ = true;
  guard_.revoke();
  release_timer_.cancel();
  context_.counters.drops.add(LinkDrop::send_failed, output_.clear());
  close_io();
}

void PortBase::queue_emptied() {
  output_.clear();
  if (release_armed_ || closed_ || output_.storage() <= kPortQueueKeptBytes) return;
  release_armed_ = true;
  release_timer_.expires_after(kPortQueueIdleRelease);
  release_timer_.async_wait(guard_.wrap([this](const std::error_code& ec) {
    release_armed_ = false;
    if (!ec && output_.empty()) output_.release_storage();
  }));
}

void PortBase::deliver(Frame frame) {
  if (closed_) return;
  if (auto reason = check_frame_size(frame.size(), context_.max_frame_size)) {
    context_.counters.drops.add(*reason);
    return;
  }
  ++context_.counters.frames_in;
  context_.counters.bytes_in += frame.size();
  context_.events.frame_received(*this, frame);
}

void PortBase::fail(std::string reason) {
  if (closed_ || !detach_reason_.empty()) return;
  detach_reason_ = std::move(reason);
  owner_.port_failed(*this);
}

PortBase& PortSet::attach(std::unique_ptr<PortBase> port) {
  const PortId id = port->id();
  PortBase& ref = *ports_.emplace(id, std::move(port)).first->second;
  spdlog::info("guest attached: {}", ref.name());
  events_.port_attached(ref);
  if (!ref.closed()) ref.start();
  return ref;
}

void PortSet::detach(PortBase& port, std::string_view reason) {
  auto it = ports_.find(port.id());
  if (it == ports_.end()) return;
  std::unique_ptr<PortBase> owned = std::move(it->second);
  ports_.erase(it);
  owned->shutdown();
  spdlog::info("guest detached: {} ({})", owned->name(), reason);
  events_.port_detached(*owned);
  // The caller may be running inside one of this port's callbacks: destroy it on a later turn.
  asio::post(io_, [doomed = std::shared_ptr<PortBase>(std::move(owned))] {});
}

void PortSet::detach_all(std::string_view reason) {
  std::vector<PortBase*> all;
  all.reserve(ports_.size());
  for (auto& [id, port] : ports_) all.push_back(port.get());
  for (PortBase* port : all) detach(*port, reason);
}

}  // namespace vznet::virtio

// OutputQueue: appending framed copies, consuming them, compacting and freeing the buffer.
#include "virtio/output_queue.h"

#include "virtio/frame_codec.h"

namespace vznet::virtio {

bool OutputQueue::push(Frame frame, std::size_t limit) {
  const std::size_t prefix = framing_ == OutputFraming::length_prefixed ? kStreamPrefixSize : 0;
  if (bytes_.size() - written_ + prefix + frame.size() > limit) return false;
  if (prefix != 0) {
    append_stream_frame(bytes_, frame);
  } else {
    bytes_.insert(bytes_.end(), frame.begin(), frame.end());
  }
  entries_.push_back({bytes_.size(), frame.size()});
  return true;
}

std::size_t OutputQueue::pop() {
  const Entry& entry = entries_[head_++];
  written_ = entry.end;
  return entry.length;
}

void OutputQueue::compact() {
  if (head_ == 0 && written_ == 0) return;
  bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(written_));
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(head_));
  for (Entry& entry : entries_) entry.end -= written_;
  head_ = 0;
  written_ = 0;
}

std::size_t OutputQueue::clear() {
  const std::size_t dropped = entries_.size() - head_;
  bytes_.clear();
  entries_.clear();
  head_ = 0;
  written_ = 0;
  return dropped;
}

void OutputQueue::release_storage() {
  std::vector<std::uint8_t>().swap(bytes_);
  std::vector<Entry>().swap(entries_);
}

}  // namespace vznet::virtio

// Pure codecs for the guest link: frame size checks, the vfkit greeting, and the QEMU stream framing.
// The stream decoder is a four-state machine (prefix -> body | skip -> prefix; any -> broken, final).
#include "virtio/frame_codec.h"

#include <algorithm>
#include <cstring>

#include "base/byte_order.h"

namespace vznet::virtio {

bool is_vfkit_greeting(Frame datagram) {
  return datagram.size() == kVfkitGreeting.size() &&
         std::equal(datagram.begin(), datagram.end(), kVfkitGreeting.begin());
}

std::optional<LinkDrop> check_frame_size(std::size_t size, std::size_t max_frame_size) {
  if (size < kEthernetHeaderSize) return LinkDrop::runt;
  if (size > max_frame_size) return LinkDrop::oversized;
  return std::nullopt;
}

void append_stream_frame(std::vector<std::uint8_t>& out, Frame frame) {
  const auto n = static_cast<std::uint32_t>(frame.size());
  std::uint8_t prefix[kStreamPrefixSize];
  base::store_be32(prefix, n);
  out.insert(out.end(), prefix, prefix + kStreamPrefixSize);
  out.insert(out.end(), frame.begin(), frame.end());
}

StreamDecoder::StreamDecoder(std::size_t max_frame_size)
    : max_frame_size_(std::min(max_frame_size, kMaxStreamFrameLength)) {}

std::size_t StreamDecoder::pending_bytes() const {
  switch (state_) {
    case State::prefix: return prefix_have_;
    case State::body: return kStreamPrefixSize + body_.size();
    case State::skip:
    case State::broken: return 0;
  }
  return 0;
}

// Decides what to do with a frame of `length` bytes whose prefix was just read. Returns false if the length
// breaks the stream.
bool StreamDecoder::start_frame(std::size_t length, Sink& sink) {
  if (length == 0 || length > kMaxStreamFrameLength) {
    state_ = State::broken;
    sink.drop(LinkDrop::bad_length_prefix);
    return false;
  }
  if (auto reason = check_frame_size(length, max_frame_size_)) {
    sink.drop(*reason);
    state_ = State::skip;
    skip_left_ = length;
    return true;
  }
  state_ = State::body;
  body_need_ = length;
  body_.clear();
  return true;
}

bool StreamDecoder::feed(Frame bytes, Sink& sink) {
  while (!bytes.empty()) {
    switch (state_) {
      case State::broken: return false;
      case State::prefix: {
        if (prefix_have_ == 0 && bytes.size() >= kStreamPrefixSize) {
          const std::size_t length = base::load_be32(bytes.data());
          bytes = bytes.subspan(kStreamPrefixSize);
          if (!start_frame(length, sink)) return false;
          // Fast path: the whole frame is in this chunk, hand it out in place.
          if (state_ == State::body && bytes.size() >= length) {
            sink.frame(bytes.first(length));
            bytes = bytes.subspan(length);
            state_ = State::prefix;
          }
          break;
        }
        const std::size_t take = std::min(kStreamPrefixSize - prefix_have_, bytes.size());
        std::memcpy(prefix_.data() + prefix_have_, bytes.data(), take);
        prefix_have_ += take;
        bytes = bytes.subspan(take);
        if (prefix_have_ == kStreamPrefixSize) {
          prefix_have_ = 0;
          if (!start_frame(base::load_be32(prefix_.data()), sink)) return false;
        }
        break;
      }
      case State::body: {
        const std::size_t take = std::min(body_need_ - body_.size(), bytes.size());
        body_.insert(body_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
        bytes = bytes.subspan(take);
        if (body_.size() == body_need_) {
          state_ = State::prefix;
          sink.frame(Frame(body_));
        }
        break;
      }
      case State::skip: {
        const std::size_t take = std::min(skip_left_, bytes.size());
        skip_left_ -= take;
        bytes = bytes.subspan(take);
        if (skip_left_ == 0) state_ = State::prefix;
        break;
      }
    }
  }
  return state_ != State::broken;
}

}  // namespace vznet::virtio

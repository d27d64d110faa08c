// OutputQueue: the frames a port has taken for its guest and not yet written, back to back in one buffer, each in
// the port's framing (the stream framing's length prefix, or none). A stream port writes the unwritten bytes as they
// lie and learns which frames a partial write completed; a datagram port sends each frame as one message. Both ports
// share this bookkeeping (bound, compaction, discarding, storage) and keep only their I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "virtio/guest_port.h"

namespace vznet::virtio {

enum class OutputFraming {
  datagram,        ///< each frame as it is (one message per frame)
  length_prefixed  ///< each frame after its 4-byte big-endian length (QEMU's stream framing)
};

class OutputQueue {
 public:
  /// One queued frame: its bytes end at `end` in the buffer, its own (unprefixed) bytes are the last `length`.
  struct Entry {
    std::size_t end;
    std::size_t length;
  };

  explicit OutputQueue(OutputFraming framing) : framing_(framing) {}

  /// Appends a framed copy of `frame`; false, and nothing queued, if the unwritten bytes would pass `limit`.
  bool push(Frame frame, std::size_t limit);

  bool empty() const { return head_ == entries_.size(); }
  /// Frames not yet wholly written, oldest first.
  std::span<const Entry> unsent() const { return std::span(entries_).subspan(head_); }
  /// The frame's own bytes (without a prefix). Not for a frame partly written and compacted (only a stream write
  /// stops inside a frame, and the stream port sends unwritten() instead).
  Frame frame_of(const Entry& entry) const { return Frame(bytes_.data() + entry.end - entry.length, entry.length); }
  /// The bytes not yet written, prefixes included (what a stream write sends next).
  Frame unwritten() const { return Frame(bytes_.data() + written_, bytes_.size() - written_); }

  /// `count` more bytes of unwritten() were written; calls on_frame(length) for each frame now wholly written.
  template <class OnFrame>
  void wrote(std::size_t count, OnFrame&& on_frame) {
    written_ += count;
    while (head_ < entries_.size() && entries_[head_].end <= written_) on_frame(entries_[head_++].length);
  }
  /// The oldest unsent frame is done with (sent whole, or dropped); returns its length.
  std::size_t pop();

  /// Frees the buffer space before the first unwritten byte (the written part of a partial frame included).
  void compact();
  /// Empties the queue, keeping its storage; returns how many frames were not wholly written.
  std::size_t clear();
  /// Bytes of storage held, in use or not.
  std::size_t storage() const { return bytes_.capacity() + entries_.capacity() * sizeof(Entry); }
  /// Frees the storage; only while empty().
  void release_storage();

 private:
  OutputFraming framing_;
  std::vector<std::uint8_t> bytes_;
  std::vector<Entry> entries_;
  std::size_t head_ = 0;     ///< first entry not wholly written
  std::size_t written_ = 0;  ///< first byte of bytes_ not written
};

}  // namespace vznet::virtio

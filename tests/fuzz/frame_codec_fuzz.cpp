// Fuzz target: the guest link's framings (virtio/frame_codec). Stream framing (QEMU's BE32 length prefix): the
// input's first bytes choose the maximum frame size and how the rest is split into reads; the frames and drops
// decoded from those splits must equal those decoded from one read, and re-encoding the frames must decode to the
// same frames again. Datagram framing: the size check and the vfkit greeting on the whole input.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tests/fuzz/fuzz_support.h"
#include "virtio/frame_codec.h"

namespace {

using namespace vznet::virtio;

struct Recorder final : StreamDecoder::Sink {
  std::vector<std::vector<std::uint8_t>> frames;
  std::vector<LinkDrop> drops;
  void frame(Frame f) override {
    vznet::fuzz::check(f.size() >= kEthernetHeaderSize, "frame shorter than an Ethernet header");
    frames.emplace_back(f.begin(), f.end());
  }
  void drop(LinkDrop reason) override { drops.push_back(reason); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using vznet::fuzz::check;
  const Frame whole(data, size);
  (void)is_vfkit_greeting(whole);
  (void)check_frame_size(size, 1514);
  if (size < 3) return 0;

  // 1514 (MTU 1500) up to 65520 + 14, the sizes vznet runs with.
  const std::size_t max_frame = 1514 + (std::size_t{data[0]} << 8 | data[1]) % (kMaxStreamFrameLength - 1513);
  const std::size_t split_seed = data[2];
  const Frame stream = whole.subspan(3);

  Recorder one;
  StreamDecoder one_decoder(max_frame);
  const bool one_ok = one_decoder.feed(stream, one);

  Recorder split;
  StreamDecoder split_decoder(max_frame);
  bool split_ok = true;
  std::size_t chunk = split_seed % 7 + 1;
  for (std::size_t at = 0; at < stream.size();) {
    const std::size_t n = std::min(chunk, stream.size() - at);
    split_ok = split_decoder.feed(stream.subspan(at, n), split);
    at += n;
    chunk = (chunk * 5 + split_seed) % 23 + 1;
  }
  check(one_ok == split_ok, "split reads break the stream differently");
  check(one.frames == split.frames, "split reads decode other frames");
  check(one.drops == split.drops, "split reads report other drops");
  check(one_decoder.pending_bytes() == split_decoder.pending_bytes(), "split reads hold back other bytes");

  std::vector<std::uint8_t> encoded;
  for (const auto& f : one.frames) append_stream_frame(encoded, f);
  Recorder again;
  StreamDecoder again_decoder(max_frame);
  check(again_decoder.feed(encoded, again), "re-encoded frames break the stream");
  check(again.frames == one.frames && again.drops.empty(), "re-encoded frames decode differently");
  check(again_decoder.pending_bytes() == 0, "re-encoded frames leave bytes behind");
  return 0;
}

// Unit tests for PcapCapture: what it writes reads back through libpcap (link type, bytes, lengths, order), the
// file rotates at its size limit, and a path it cannot write or a limit below one frame is refused.
#include "app/pcap_capture.h"

#include <pcap/pcap.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>
#include <vector>

#include "virtio_test_support.h"

namespace vznet::app {
namespace {

using virtio::testing::Bytes;
using virtio::testing::make_frame;
using Direction = virtio::FrameTap::Direction;

/// Every frame of a pcap file as libpcap reads it, with the link type; fails the test if it cannot be read.
struct ReadBack {
  int link_type = -1;
  std::vector<Bytes> frames;
  std::vector<std::uint32_t> lengths;
};

ReadBack read_back(const std::string& path) {
  ReadBack out;
  char error[PCAP_ERRBUF_SIZE];
  pcap_t* file = pcap_open_offline(path.c_str(), error);
  if (file == nullptr) {
    ADD_FAILURE() << path << ": " << error;
    return out;
  }
  out.link_type = pcap_datalink(file);
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(file, &header, &data) == 1) {
    out.frames.emplace_back(data, data + header->caplen);
    out.lengths.push_back(header->len);
  }
  pcap_close(file);
  return out;
}

struct PcapCaptureTest : ::testing::Test {
  virtio::testing::TempDir dir;
  std::string path = dir.file("guest.pcap");
};

TEST_F(PcapCaptureTest, FramesReadBackAsEthernetInOrder) {
  std::vector<Bytes> sent;
  {
    PcapCapture capture(path, kDefaultPcapMaxBytes);
    for (std::uint8_t i = 0; i < 20; ++i) {
      sent.push_back(make_frame(60 + i * 70, i));
      capture.frame(1, i % 2 != 0 ? Direction::to_guest : Direction::from_guest, sent.back());
    }
    capture.flush();
    EXPECT_EQ(read_back(path).frames.size(), 20u) << "readable while running, once flushed";
    EXPECT_EQ(capture.status().frames, 20u);
  }
  const ReadBack back = read_back(path);
  EXPECT_EQ(back.link_type, DLT_EN10MB);
  EXPECT_EQ(back.frames, sent);
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(back.lengths[i], sent[i].size());
}

TEST_F(PcapCaptureTest, AJumboFrameIsKeptWhole) {
  const Bytes jumbo = make_frame(65534, 7);  // MTU 65520 + Ethernet header
  {
    PcapCapture capture(path, kDefaultPcapMaxBytes);
    capture.frame(1, Direction::from_guest, jumbo);
  }
  EXPECT_EQ(read_back(path).frames, std::vector<Bytes>{jumbo});
}

TEST_F(PcapCaptureTest, TheFileRotatesAtItsLimitAndKeepsOnePrevious) {
  const std::uint64_t limit = 1 << 20;
  const Bytes frame = make_frame(1514, 1);
  const std::size_t per_file = (limit - 24) / (16 + frame.size());
  const std::size_t total = per_file * 2 + 10;  // fills two files, then ten more frames
  PcapStatus status;
  {
    PcapCapture capture(path, limit);
    for (std::size_t i = 0; i < total; ++i) capture.frame(1, Direction::from_guest, frame);
    status = capture.status();
  }
  EXPECT_EQ(status.rotations, 2u);
  EXPECT_EQ(status.frames, total);
  EXPECT_EQ(status.write_errors, 0u);
  EXPECT_LE(std::filesystem::file_size(path + ".1"), limit);
  EXPECT_EQ(read_back(path + ".1").frames.size(), per_file) << "the second file, complete";
  EXPECT_EQ(read_back(path).frames.size(), 10u) << "the current file";
}

TEST_F(PcapCaptureTest, AnUnwritablePathOrATinyLimitIsRefused) {
  try {
    PcapCapture capture(dir.file("no/such/dir/x.pcap"), kDefaultPcapMaxBytes);
    ADD_FAILURE() << "a capture opened in a missing directory";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no/such/dir/x.pcap"), std::string::npos) << e.what();
  }
  EXPECT_THROW(PcapCapture(path, 1000), std::invalid_argument);
}

}  // namespace
}  // namespace vznet::app

// Start-up tests for path listeners: a live socket is "in use", a stale one is replaced, a non-socket file,
// a missing or read-only directory and an over-long path are refused with a sentence naming the path, and
// nothing is left behind on failure.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "virtio/listener.h"
#include "virtio_test_support.h"

namespace vznet::virtio {
namespace {

using namespace testing;

struct VirtioSocketPath : ::testing::Test {
  TempDir dir;
  asio::io_context io;
  Recorder events;
  LinkCounters counters;

  std::unique_ptr<GuestListener> open(const std::string& text) {
    std::string error;
    const auto uri = parse_listen_uri(text, error);
    if (!uri) throw std::invalid_argument(error);
    return open_listener(io, *uri, LinkOptions{}, events, counters);
  }
  // Expects opening `text` to throw a message containing `path` and `mentions`.
  void expect_refused(const std::string& text, const std::string& path, const std::string& mentions) {
    try {
      open(text);
      ADD_FAILURE() << "opened " << text;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(mentions), std::string::npos) << e.what();
    }
  }
};

TEST_F(VirtioSocketPath, LiveSocketOfAnyKindIsInUse) {
  for (const std::string scheme : {"unixgram://", "unix://", "unixpacket://"}) {
    const std::string path = dir.file("live.sock");
    auto first = open(scheme + path);
    for (const std::string other : {"unixgram://", "unix://", "unixpacket://"}) {
      expect_refused(other + path, path, "in use");
    }
    EXPECT_EQ(::access(path.c_str(), F_OK), 0) << "the live socket is untouched";
    first->close();
    EXPECT_NE(::access(path.c_str(), F_OK), 0) << scheme;
  }
}

TEST_F(VirtioSocketPath, StaleSocketFileIsReplaced) {
  const std::string path = dir.file("stale.sock");
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    UniqueFd old = client_socket(type, path);  // bound, then closed without unlinking
    ASSERT_TRUE(old);
    old.reset();
    auto listener = open("unix://" + path);
    UniqueFd guest = client_socket(SOCK_STREAM, {}, path);
    EXPECT_TRUE(guest) << "the new listener answers";
    listener->close();
  }
}

TEST_F(VirtioSocketPath, RegularFileIsRefusedAndKept) {
  const std::string path = dir.file("notes.txt");
  std::ofstream(path) << "keep me";
  expect_refused("unixgram://" + path, path, "not a socket");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(VirtioSocketPath, DirectoryIsRefused) { expect_refused("unix://" + dir.path, dir.path, "not a socket"); }

TEST_F(VirtioSocketPath, MissingDirectoryIsRefused) {
  const std::string path = dir.file("nope/vz.sock");
  expect_refused("unix://" + path, path, "No such file or directory");
}

TEST_F(VirtioSocketPath, ReadOnlyDirectoryIsRefused) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  const std::string ro = dir.file("ro");
  ASSERT_EQ(::mkdir(ro.c_str(), 0555), 0);
  const std::string path = ro + "/vz.sock";
  expect_refused("unixgram://" + path, path, "Permission denied");
}

TEST_F(VirtioSocketPath, OverLongPathIsRefused) {
  const std::string path = dir.path + "/" + std::string(200, 'x');
  expect_refused("unixpacket://" + path, path, "too long");
}

TEST_F(VirtioSocketPath, CloseLeavesASuccessorsSocketAlone) {
  const std::string path = dir.file("vz.sock");
  auto first = open("unixgram://" + path);
  ASSERT_EQ(::unlink(path.c_str()), 0);  // someone removed our file and started their own
  auto second = open("unixgram://" + path);
  first->close();
  EXPECT_EQ(::access(path.c_str(), F_OK), 0) << "first listener must not remove the successor's socket";
  second->close();
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST_F(VirtioSocketPath, BadMaxFrameSizeIsRefused) {
  std::string error;
  const auto uri = parse_listen_uri("unix://" + dir.file("vz.sock"), error);
  LinkOptions options;
  options.max_frame_size = 70000;
  EXPECT_THROW(open_listener(io, *uri, options, events, counters), std::runtime_error);
  EXPECT_NE(::access(dir.file("vz.sock").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace vznet::virtio

// Unit tests for parse_listen_uri: every scheme, and the inputs it must reject with a message naming the problem.
#include <gtest/gtest.h>

#include "virtio/listener.h"

namespace vznet::virtio {
namespace {

TEST(VirtioListenUri, ParsesEveryScheme) {
  struct Case {
    const char* text;
    ListenUri::Kind kind;
    const char* path;
    int fd;
  };
  const Case cases[] = {
      {"unixgram:///run/vz/net.sock", ListenUri::Kind::unixgram, "/run/vz/net.sock", -1},
      {"unix:///tmp/qemu.sock", ListenUri::Kind::unix_stream, "/tmp/qemu.sock", -1},
      {"unixpacket://relative/bess.sock", ListenUri::Kind::unixpacket, "relative/bess.sock", -1},
      {"fd://3", ListenUri::Kind::fd, "", 3},
      {"fd://0", ListenUri::Kind::fd, "", 0},
  };
  for (const Case& c : cases) {
    std::string error;
    const auto uri = parse_listen_uri(c.text, error);
    ASSERT_TRUE(uri) << c.text << ": " << error;
    EXPECT_EQ(uri->kind, c.kind) << c.text;
    EXPECT_EQ(uri->path, c.path) << c.text;
    EXPECT_EQ(uri->fd, c.fd) << c.text;
    EXPECT_EQ(uri->text, c.text);
    EXPECT_TRUE(error.empty());
  }
}

TEST(VirtioListenUri, RejectsBadInputWithAMessage) {
  struct Case {
    std::string text;
    const char* mentions;
  };
  const Case cases[] = {
      {"", "unknown scheme"},
      {"/tmp/x.sock", "unknown scheme"},
      {"tcp://127.0.0.1:80", "unknown scheme"},
      {"UNIX:///tmp/x", "unknown scheme"},
      {"unix:/tmp/x", "unknown scheme"},
      {"unix://", "empty socket path"},
      {"unixgram://", "empty socket path"},
      {"unixpacket://", "empty socket path"},
      {std::string("unix:///tmp/a\0b", 15), "NUL"},
      {"fd://", "file descriptor"},
      {"fd://abc", "file descriptor"},
      {"fd://-1", "file descriptor"},
      {"fd://3x", "file descriptor"},
      {"fd://+3", "file descriptor"},
      {"fd:// 3", "file descriptor"},
      {"fd://99999999999999", "file descriptor"},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_FALSE(parse_listen_uri(c.text, error)) << c.text;
    EXPECT_NE(error.find(c.mentions), std::string::npos) << c.text << " -> " << error;
  }
}

}  // namespace
}  // namespace vznet::virtio

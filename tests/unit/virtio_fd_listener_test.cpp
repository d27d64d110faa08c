// Socket-level tests for fd:// (inherited sockets): SO_TYPE picks the framing (socketpair datagram, stream,
// seqpacket), a listening fd accepts connections, an unconnected datagram fd learns peers, bad fds are refused.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "virtio/listener.h"
#include "virtio_test_support.h"

namespace vznet::virtio {
namespace {

using namespace testing;

struct VirtioFdListener : ::testing::Test {
  asio::io_context io;
  Recorder events;
  LinkCounters counters;
  std::unique_ptr<GuestListener> listener;

  // Opens fd://<fd>; the listener takes the descriptor.
  void open_fd(int fd) {
    std::string error;
    const auto uri = parse_listen_uri("fd://" + std::to_string(fd), error);
    ASSERT_TRUE(uri) << error;
    listener = open_listener(io, *uri, LinkOptions{}, events, counters);
  }
  // A socketpair of `type`: returns the guest's end, hands the other to a listener.
  UniqueFd open_pair(int type) {
    int pair[2];
    if (::socketpair(AF_UNIX, type, 0, pair) != 0) return {};
    open_fd(pair[0]);
    return UniqueFd(pair[1]);
  }
};

TEST_F(VirtioFdListener, DatagramSocketpairIsOnePort) {
  UniqueFd guest = open_pair(SOCK_DGRAM);
  ASSERT_TRUE(guest);
  ASSERT_TRUE(run_until(io, [&] { return events.attached.size() == 1; }));
  EXPECT_EQ(events.names[0].rfind("fd:", 0), 0u) << events.names[0];
  ASSERT_TRUE(send_message(io, guest.get(), {'V', 'F', 'K', 'T'}));
  const Bytes frame = make_frame(1514, 1);
  ASSERT_TRUE(send_message(io, guest.get(), frame));
  ASSERT_TRUE(run_until(io, [&] { return events.frames.size() == 1; }));
  EXPECT_EQ(events.frames[0].bytes, frame);
  EXPECT_EQ(counters.drops.get(LinkDrop::runt), 0u) << "the greeting is not a runt";

  const Bytes reply = make_frame(200, 2);
  events.port(events.attached[0]).send_frame(reply);
  EXPECT_EQ(receive_message(io, guest.get()), reply);

  guest.reset();  // a datagram peer's departure shows on the next send
  events.port(events.attached[0]).send_frame(reply);
  ASSERT_TRUE(run_until(io, [&] { return events.detached.size() == 1; }));
}

TEST_F(VirtioFdListener, StreamSocketpairUsesLengthPrefixes) {
  UniqueFd guest = open_pair(SOCK_STREAM);
  ASSERT_TRUE(guest);
  ASSERT_TRUE(run_until(io, [&] { return events.attached.size() == 1; }));
  const Bytes frame = make_frame(600, 1);
  ASSERT_TRUE(write_all(io, guest.get(), stream_encoded(frame)));
  ASSERT_TRUE(run_until(io, [&] { return events.frames.size() == 1; }));
  EXPECT_EQ(events.frames[0].bytes, frame);
  events.port(events.attached[0]).send_frame(frame);
  EXPECT_EQ(receive_bytes(io, guest.get(), frame.size() + 4), stream_encoded(frame));
  guest.reset();
  ASSERT_TRUE(run_until(io, [&] { return events.detached.size() == 1; }));
}

TEST_F(VirtioFdListener, SeqpacketSocketpairIsPacketFramed) {
  UniqueFd guest = open_pair(SOCK_SEQPACKET);
  if (!guest) GTEST_SKIP() << "no AF_UNIX SOCK_SEQPACKET here";
  const Bytes frame = make_frame(60, 1);
  ASSERT_TRUE(send_message(io, guest.get(), frame));
  ASSERT_TRUE(run_until(io, [&] { return events.frames.size() == 1; }));
  EXPECT_EQ(events.frames[0].bytes, frame);
  guest.reset();
  ASSERT_TRUE(run_until(io, [&] { return events.detached.size() == 1; }));
}

TEST_F(VirtioFdListener, ListeningFdAcceptsConnections) {
  TempDir dir;
  const std::string path = dir.file("inherited.sock");
  UniqueFd server(::socket(AF_UNIX, SOCK_STREAM, 0));
  const sockaddr_un address = unix_address(path);
  ASSERT_EQ(::bind(server.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(server.get(), 4), 0);
  open_fd(server.release());
  UniqueFd one = client_socket(SOCK_STREAM, {}, path), two = client_socket(SOCK_STREAM, {}, path);
  ASSERT_TRUE(write_all(io, two.get(), stream_encoded(make_frame(60, 2))));
  ASSERT_TRUE(run_until(io, [&] { return events.attached.size() == 2 && events.frames.size() == 1; }));
  listener->close();
  EXPECT_EQ(::access(path.c_str(), F_OK), 0) << "fd:// does not own the path";
}

TEST_F(VirtioFdListener, UnconnectedDatagramFdLearnsPeers) {
  TempDir dir;
  const std::string path = dir.file("inherited.sock");
  UniqueFd server = client_socket(SOCK_DGRAM, path);
  ASSERT_TRUE(server);
  open_fd(server.release());
  UniqueFd qemu = client_socket(SOCK_DGRAM, dir.file("qemu.sock"));
  const Bytes frame = make_frame(60, 1);
  ASSERT_TRUE(send_message(io, qemu.get(), frame, path));
  ASSERT_TRUE(run_until(io, [&] { return events.frames.size() == 1; }));
  events.port(events.attached[0]).send_frame(frame);
  EXPECT_EQ(receive_message(io, qemu.get()), frame);
}

TEST_F(VirtioFdListener, RefusesWhatIsNotAUsableSocket) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  const int closed_fd = [] {
    const int fd = ::open("/dev/null", O_RDONLY);
    ::close(fd);
    return fd;
  }();
  struct Case {
    int fd;
    const char* mentions;
  };
  for (const Case& c : {Case{read_end.get(), "is not a socket"}, Case{closed_fd, "is not an open file descriptor"}}) {
    ListenUri uri;
    uri.kind = ListenUri::Kind::fd;
    uri.fd = c.fd;
    uri.text = "fd://" + std::to_string(c.fd);
    try {
      open_listener(io, uri, LinkOptions{}, events, counters);
      ADD_FAILURE() << "accepted " << uri.text;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(c.mentions), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(uri.text), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(::fcntl(read_end.get(), F_GETFL) & O_NONBLOCK, 0) << "a refused fd is left untouched";
}

}  // namespace
}  // namespace vznet::virtio

// Unit tests for activated_listeners() (app/socket_activation.h): LISTEN_FDS for this process become fd:// URIs
// from 3 up, anything meant for another process or malformed is ignored, and the variables are always cleared.
#include "app/socket_activation.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace vznet::app {
namespace {

void set(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }
bool cleared() {
  return std::getenv("LISTEN_PID") == nullptr && std::getenv("LISTEN_FDS") == nullptr &&
         std::getenv("LISTEN_FDNAMES") == nullptr;
}

TEST(SocketActivation, PassedSocketsBecomeFdListenersFromThree) {
  set("LISTEN_PID", std::to_string(::getpid()));
  set("LISTEN_FDS", "2");
  set("LISTEN_FDNAMES", "stream:dgram");
  const auto uris = activated_listeners();
  ASSERT_EQ(uris.size(), 2u);
  EXPECT_EQ(uris[0].kind, virtio::ListenUri::Kind::fd);
  EXPECT_EQ(uris[0].fd, 3);
  EXPECT_EQ(uris[1].fd, 4);
  EXPECT_EQ(uris[1].text, "fd://4");
  EXPECT_TRUE(cleared()) << "a child must not take them for its own";
}

TEST(SocketActivation, NothingPassedOrMeantForAnotherProcessOrMalformedGivesNone) {
  EXPECT_TRUE(activated_listeners().empty());
  set("LISTEN_PID", std::to_string(::getpid() + 1));
  set("LISTEN_FDS", "1");
  EXPECT_TRUE(activated_listeners().empty());
  EXPECT_TRUE(cleared());
  for (const char* fds : {"0", "-1", "three", "100000"}) {
    set("LISTEN_PID", std::to_string(::getpid()));
    set("LISTEN_FDS", fds);
    EXPECT_TRUE(activated_listeners().empty()) << fds;
    EXPECT_TRUE(cleared());
  }
}

}  // namespace
}  // namespace vznet::app

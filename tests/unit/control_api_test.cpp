// Tests for the control API transport on a real unix socket, driven by a tiny raw HTTP/1.1 client (httplib's
// client cannot speak over unix sockets in 0.11): socket mode and life cycle, routing and its JSON errors,
// bodies, and that handlers run on the io_context thread.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <nlohmann/json.hpp>

#include "app/control_api.h"
#include "virtio_test_support.h"

namespace vznet::app {
namespace {

using nlohmann::json;
using virtio::UniqueFd;
using virtio::testing::TempDir;
using virtio::testing::unix_address;

/// One parsed HTTP answer.
struct Reply {
  int status = 0;
  std::string head;  ///< status line and headers
  std::string body;
  json json_body() const { return json::parse(body, nullptr, false); }
  bool has_header(const std::string& line) const { return head.find("\r\n" + line + "\r\n") != std::string::npos; }
};

/// Sends `raw` (a whole HTTP request) to the unix socket at `path` and reads the answer to EOF. Socket
/// timeouts keep a broken server from hanging the test. status stays 0 if nothing sensible came back.
Reply round_trip(const std::string& path, const std::string& raw) {
  Reply reply;
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  timeval timeout{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  const sockaddr_un address = unix_address(path);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) return reply;
  for (std::size_t sent = 0; sent < raw.size();) {
    const ssize_t n = ::send(fd.get(), raw.data() + sent, raw.size() - sent, 0);  // SIGPIPE: see the fixture
    if (n <= 0) break;  // the server may answer (413) and close before reading everything
    sent += static_cast<std::size_t>(n);
  }
  std::string all;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (n <= 0) break;  // EOF, or ECONNRESET after a server closed with our unread bytes
    all.append(buffer, static_cast<std::size_t>(n));
  }
  const std::size_t end = all.find("\r\n\r\n");
  if (all.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return reply;
  reply.status = std::stoi(all.substr(9, 3));
  reply.head = all.substr(0, end + 2);
  reply.body = all.substr(end + 4);
  return reply;
}

/// A request with `Connection: close` and, if `body` is given, a Content-Length.
Reply request(const std::string& path, const std::string& method, const std::string& target,
              const std::optional<std::string>& body = std::nullopt, const std::string& extra_headers = "") {
  std::string raw = method + " " + target + " HTTP/1.1\r\nHost: vznet\r\nConnection: close\r\n" + extra_headers;
  if (body) raw += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body->size()) + "\r\n";
  return round_trip(path, raw + "\r\n" + body.value_or(""));
}

/// `body` as one chunk of a chunked request.
std::string chunked(const std::string& body) {
  char size[32];
  (void)std::snprintf(size, sizeof size, "%zx", body.size());
  return std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
}

struct ControlApiTest : ::testing::Test {
  // A server closing before reading all of a request must not kill the test (vznet's main() does the same).
  ControlApiTest() { std::signal(SIGPIPE, SIG_IGN); }

  TempDir dir;
  std::string path = dir.file("api.sock");
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread loop{[this] { io.run(); }};
  std::unique_ptr<ControlApi> api = std::make_unique<ControlApi>(io, path);

  void TearDown() override {
    api.reset();
    work.reset();
    io.stop();
    if (loop.joinable()) loop.join();
  }
};

TEST_F(ControlApiTest, SocketIsPrivateAndHealthAnswersFromTheLoop) {
  api->start();
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(api->path(), path);

  const Reply reply = request(path, "GET", "/health");
  EXPECT_EQ(reply.status, 200);
  EXPECT_TRUE(reply.has_header("Content-Type: application/json")) << reply.head;
  EXPECT_EQ(reply.json_body(), json({{"status", "ok"}}));
  EXPECT_EQ(reply.body.back(), '\n');
}

TEST_F(ControlApiTest, GetRouteAnswersJson) {
  api->route("GET", "/stats", [](const std::string& param, const json& body) {
    EXPECT_TRUE(param.empty());
    EXPECT_TRUE(body.is_null());
    return ApiResponse{200, {{"flows", 3}, {"name", "vznet"}}};
  });
  api->start();
  const Reply reply = request(path, "GET", "/stats");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.json_body(), json({{"flows", 3}, {"name", "vznet"}}));
}

TEST_F(ControlApiTest, TextAnswersAreThePrometheusExposition) {
  api->route("GET", "/metrics", [](const std::string&, const json&) {
    return ApiResponse{200, nullptr, "# TYPE vznet_guests gauge\nvznet_guests 1\n"};
  });
  api->start();
  const Reply reply = request(path, "GET", "/metrics");
  EXPECT_EQ(reply.status, 200);
  EXPECT_TRUE(reply.has_header("Content-Type: text/plain; version=0.0.4; charset=utf-8")) << reply.head;
  EXPECT_EQ(reply.body, "# TYPE vznet_guests gauge\nvznet_guests 1\n");
}

TEST_F(ControlApiTest, PostBodyReachesTheHandlerOnTheLoopThread) {
  json seen;
  std::thread::id ran_on;
  api->route("POST", "/forwards", [&](const std::string&, const json& body) {
    seen = body;
    ran_on = std::this_thread::get_id();
    return ApiResponse{201, {{"id", "tcp-8080"}}};
  });
  api->start();
  const Reply reply = request(path, "POST", "/forwards", R"({"proto":"tcp","host_port":8080})");
  EXPECT_EQ(reply.status, 201);
  EXPECT_EQ(reply.json_body(), json({{"id", "tcp-8080"}}));
  EXPECT_EQ(seen, json({{"proto", "tcp"}, {"host_port", 8080}}));
  EXPECT_EQ(ran_on, loop.get_id());
}

TEST_F(ControlApiTest, ChunkedBodyReachesTheHandler) {
  json seen;
  api->route("PUT", "/limits", [&](const std::string&, const json& body) {
    seen = body;
    return ApiResponse{200, {}};
  });
  api->start();
  const Reply reply = round_trip(path,
                                 "PUT /limits HTTP/1.1\r\nHost: vznet\r\nConnection: close\r\n"
                                 "Transfer-Encoding: chunked\r\n\r\n" +
                                     chunked(R"({"max_flows":10})"));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(seen, json({{"max_flows", 10}}));
}

TEST_F(ControlApiTest, PostWithoutBodyIsAnsweredAtOnce) {
  // No Content-Length, no Transfer-Encoding: no body (httplib alone would wait for EOF until its timeout).
  bool called = false;
  json seen = "unset";
  api->route("POST", "/flush", [&](const std::string&, const json& body) {
    called = true;
    seen = body;
    return ApiResponse{204, {}};
  });
  api->start();
  const auto started = std::chrono::steady_clock::now();
  const Reply reply = request(path, "POST", "/flush");
  EXPECT_EQ(reply.status, 204);
  EXPECT_TRUE(reply.body.empty());
  EXPECT_TRUE(called);
  EXPECT_TRUE(seen.is_null());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

TEST_F(ControlApiTest, DeletePassesThePathParameter) {
  std::string seen;
  api->route("DELETE", "/forwards/{id}", [&](const std::string& param, const json& body) {
    seen = param;
    EXPECT_TRUE(body.is_null());
    return ApiResponse{200, {{"removed", param}}};
  });
  api->start();
  const Reply reply = request(path, "DELETE", "/forwards/tcp-8080");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(seen, "tcp-8080");
  EXPECT_EQ(reply.json_body(), json({{"removed", "tcp-8080"}}));
  EXPECT_EQ(request(path, "DELETE", "/forwards/").status, 404);  // the parameter is never empty
  EXPECT_EQ(request(path, "DELETE", "/forwards/a/b").status, 404);
}

TEST_F(ControlApiTest, InvalidJsonIs400AndSkipsTheHandler) {
  bool called = false;
  api->route("POST", "/forwards", [&](const std::string&, const json&) {
    called = true;
    return ApiResponse{};
  });
  api->start();
  const Reply reply = request(path, "POST", "/forwards", "{nope");
  EXPECT_EQ(reply.status, 400);
  const json body = reply.json_body();
  ASSERT_TRUE(body.contains("error")) << reply.body;
  EXPECT_NE(body["error"].get<std::string>().find("not valid JSON"), std::string::npos) << reply.body;
  EXPECT_FALSE(called);
}

TEST_F(ControlApiTest, UnknownPathIs404) {
  api->start();
  const Reply reply = request(path, "GET", "/nope");
  EXPECT_EQ(reply.status, 404);
  EXPECT_TRUE(reply.has_header("Content-Type: application/json")) << reply.head;
  EXPECT_EQ(reply.json_body(), json({{"error", "no such endpoint: /nope"}}));
}

TEST_F(ControlApiTest, WrongMethodIs405WithAllow) {
  api->route("GET", "/stats", [](const std::string&, const json&) { return ApiResponse{}; });
  api->start();
  const Reply reply = request(path, "POST", "/stats", "{}");
  EXPECT_EQ(reply.status, 405);
  EXPECT_TRUE(reply.has_header("Allow: GET")) << reply.head;
  EXPECT_TRUE(reply.json_body().contains("error")) << reply.body;
}

TEST_F(ControlApiTest, HandlerExceptionIs500) {
  api->route("GET", "/boom", [](const std::string&, const json&) -> ApiResponse { throw std::runtime_error("boom"); });
  api->start();
  const Reply reply = request(path, "GET", "/boom");
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(reply.json_body(), json({{"error", "boom"}}));
  EXPECT_EQ(request(path, "GET", "/health").status, 200);  // the loop survived
}

TEST_F(ControlApiTest, OversizeBodyIs413) {
  bool called = false;
  api->route("POST", "/forwards", [&](const std::string&, const json&) {
    called = true;
    return ApiResponse{};
  });
  api->start();
  const std::string big = "\"" + std::string(70 * 1024, 'x') + "\"";
  Reply reply = request(path, "POST", "/forwards", big);  // by Content-Length (httplib's limit)
  EXPECT_EQ(reply.status, 413);
  EXPECT_TRUE(reply.json_body().contains("error")) << reply.body;
  reply = round_trip(path,
                     "POST /forwards HTTP/1.1\r\nHost: vznet\r\nConnection: close\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n" +
                         chunked(big));  // chunked (bounded by us)
  EXPECT_EQ(reply.status, 413);
  EXPECT_TRUE(reply.json_body().contains("error")) << reply.body;
  EXPECT_FALSE(called);
}

TEST_F(ControlApiTest, MalformedRequestGetsJsonError) {
  api->start();
  const Reply reply = round_trip(path, "BREW /pot HTTP/1.1\r\nHost: vznet\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(reply.status, 400);
  EXPECT_TRUE(reply.json_body().contains("error")) << reply.body;
}

TEST_F(ControlApiTest, StoppedLoopAnswers503) {
  api->start();
  io.stop();
  loop.join();
  const Reply reply = request(path, "GET", "/health");
  EXPECT_EQ(reply.status, 503);
  EXPECT_TRUE(reply.json_body().contains("error")) << reply.body;
}

TEST_F(ControlApiTest, BusyLoopAnswers503AfterTheTimeout) {
  // Block the loop until the request has been answered; the handler must not run meanwhile.
  std::mutex mutex;
  std::condition_variable changed;
  bool answered = false;
  bool blocking = false;
  asio::post(io, [&] {
    std::unique_lock lock(mutex);
    blocking = true;
    changed.notify_all();
    changed.wait_for(lock, std::chrono::seconds(20), [&] { return answered; });
  });
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(5), [&] { return blocking; }));
  }
  api->route("GET", "/slow", [](const std::string&, const json&) { return ApiResponse{}; });
  api->start();
  const Reply reply = request(path, "GET", "/slow");
  {
    std::lock_guard lock(mutex);
    answered = true;
  }
  changed.notify_all();
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.json_body(), json({{"error", "vznet is busy"}}));
  EXPECT_EQ(request(path, "GET", "/health").status, 200);
}

TEST_F(ControlApiTest, StaleSocketFileIsReplaced) {
  {
    UniqueFd old(::socket(AF_UNIX, SOCK_STREAM, 0));
    const sockaddr_un address = unix_address(path);
    ASSERT_EQ(::bind(old.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  }  // closed: the file stays, connecting is refused
  api->start();
  EXPECT_EQ(request(path, "GET", "/health").status, 200);
}

TEST_F(ControlApiTest, LivePathIsRefusedAndLeftAlone) {
  api->start();
  ControlApi second(io, path);
  try {
    second.start();
    FAIL() << "a second ControlApi started on a live socket";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("in use"), std::string::npos) << what;
  }
  second.stop();
  EXPECT_EQ(request(path, "GET", "/health").status, 200);  // the first one's file is still there
}

TEST_F(ControlApiTest, NonSocketPathIsRefused) {
  std::ofstream(path) << "not a socket";
  try {
    api->start();
    FAIL() << "started on a regular file";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("not a socket"), std::string::npos) << what;
  }
  api.reset();
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(ControlApiTest, MissingDirectoryIsRefused) {
  api = std::make_unique<ControlApi>(io, dir.file("missing/api.sock"));
  try {
    api->start();
    FAIL() << "started in a missing directory";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(dir.file("missing")), std::string::npos) << what;
    EXPECT_NE(what.find("does not exist"), std::string::npos) << what;
  }
}

TEST_F(ControlApiTest, StopRemovesTheSocketFileAndIsIdempotent) {
  api->start();
  ASSERT_EQ(request(path, "GET", "/health").status, 200);
  api->stop();
  struct stat st {};
  const int result = ::lstat(path.c_str(), &st);
  const int error = errno;
  EXPECT_EQ(result, -1);
  EXPECT_EQ(error, ENOENT);
  api->stop();
  EXPECT_EQ(request(path, "GET", "/health").status, 0);  // nobody there
}

TEST_F(ControlApiTest, RoutesAreValidated) {
  const ApiHandler ok = [](const std::string&, const json&) { return ApiResponse{}; };
  EXPECT_THROW(api->route("BREW", "/pot", ok), std::invalid_argument);
  EXPECT_THROW(api->route("GET", "stats", ok), std::invalid_argument);
  EXPECT_THROW(api->route("GET", "/a/{x}/{y}", ok), std::invalid_argument);
  EXPECT_THROW(api->route("GET", "/a/x{y}", ok), std::invalid_argument);
  EXPECT_THROW(api->route("GET", "/health", ok), std::invalid_argument);  // built in
  api->route("GET", "/forwards/{id}", ok);
  EXPECT_THROW(api->route("GET", "/forwards/{name}", ok), std::invalid_argument);
  api->start();
  EXPECT_THROW(api->route("GET", "/late", ok), std::logic_error);
}

}  // namespace
}  // namespace vznet::app

// The control API's transport: HTTP/1.1 (cpp-httplib) on a unix socket of mode 0600, with JSON in and out.
// Owns the socket file, the accept thread and httplib's two workers, and runs every route on the io_context
// thread. It knows nothing about what the routes do: the app registers them (route()) before start().
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "virtio/unix_socket.h"

namespace vznet::app {

/// What a route handler answers: an HTTP status and a JSON body, sent as application/json (no body for 204), or a
/// text body (GET /metrics), sent as the Prometheus exposition's text/plain.
struct ApiResponse {
  int status = 200;
  nlohmann::json body;
  std::string text;  ///< when not empty, sent instead of `body`
};

/// A route handler; runs on the io_context thread. `param` holds the path parameter (the {id} of
/// /forwards/{id}) if the pattern has one, else is empty; `body` is the parsed JSON request body (null if
/// none). An exception it throws becomes a 500 answer {"error": what()}.
using ApiHandler = std::function<ApiResponse(const std::string& param, const nlohmann::json& body)>;

/// The HTTP control API on a unix socket. HTTP parsing runs on its own threads; each request is handed to
/// the io_context (asio::post) and its thread waits for the answer, so handlers need no locking.
/// Built in: GET /health -> {"status":"ok"} (answered on the loop, so it proves the loop is alive).
/// Errors are JSON too: 400 bad JSON, 404 unknown path, 405 wrong method, 413 body over 64 KiB,
/// 500 handler exception, 503 loop busy for 5 s or shutting down.
class ControlApi {
 public:
  /// `io` must outlive this object. Nothing is opened until start().
  ControlApi(asio::io_context& io, std::string socket_path);
  /// Calls stop().
  ~ControlApi();
  ControlApi(const ControlApi&) = delete;
  ControlApi& operator=(const ControlApi&) = delete;

  /// Adds a route; only before start(). `method` is GET, POST, PUT, PATCH or DELETE; `pattern` is a path such
  /// as "/stats" or "/forwards/{id}" (at most one {parameter}, a whole segment). Throws std::invalid_argument
  /// for a bad method or pattern or a duplicate route, std::logic_error after start().
  void route(std::string method, std::string pattern, ApiHandler handler);

  /// Creates the socket (replacing a stale socket file) and starts serving. Throws std::runtime_error (one
  /// sentence naming the path) if the socket cannot be created: another process listens there, the path is
  /// not a socket, its directory is missing... Start-up only: it changes the process umask briefly.
  void start();

  /// Stops accepting, waits for the HTTP threads (requests waiting on the loop are answered 503) and removes
  /// the socket file. Idempotent. May be called on the loop thread, even from a route handler (whose own
  /// request is then answered 503). A client mid-request can delay it: up to 2 s if it has sent nothing yet,
  /// up to 5 s (httplib's read timeout) if it stalls halfway.
  void stop();

  /// The socket path given to the constructor.
  const std::string& path() const { return path_; }

 private:
  class Server;  // httplib::Server taught to serve a listening socket it did not create (control_api.cpp)
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{...}" marks the parameter
    ApiHandler handler;
  };

  // Routes a request with `text` as its body: 404/405/400, or the handler's answer from the loop. On 405,
  // `allowed` lists the path's methods (for the Allow header).
  ApiResponse answer(const std::string& method, const std::string& path, const std::string& text, std::string& allowed);
  // Posts the handler to the loop and waits for its answer (503 when the loop is busy or stopping).
  // `label` ("POST /forwards") names the request in log lines.
  ApiResponse run_on_loop(const ApiHandler& handler, const std::string& label, std::string param, nlohmann::json body);

  asio::io_context& io_;
  std::string path_;
  std::vector<Route> routes_;  // written before start() only, then read by the HTTP threads
  // Set by stop(); shared with calls posted to the loop, which may run after this object is gone.
  std::shared_ptr<std::atomic<bool>> stopping_ = std::make_shared<std::atomic<bool>>(false);
  std::unique_ptr<Server> server_;
  virtio::UniqueFd listener_;  // ours; httplib gets a dup, so stop() never touches a number httplib closed
  virtio::SocketFile file_;
  std::thread thread_;
  bool started_ = false;
  bool accept_loop_ok_ = true;  // written by thread_, read after join()
};

}  // namespace vznet::app

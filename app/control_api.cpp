// ControlApi (see control_api.h): the unix socket, httplib's server on it, routing and the hand-off to the loop.
//
// Theory of operation. Three kinds of thread touch this file:
//   - the accept thread runs httplib's accept loop (listen_after_bind()) on a socket we created;
//   - httplib's two workers parse a request, read its body (bounded here), route it and parse its JSON;
//   - the io_context thread runs the handler: the worker posts it and waits on a std::future.
// No locks: the route table is fixed before start(), and a call's only shared state is its promise. Nothing
// is logged off the loop, because the app's logger is single-threaded (stderr_logger_st): such lines are posted.
#include "app/control_api.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <asio/post.hpp>

namespace vznet::app {
namespace {

/// API bodies are small JSON objects (a forward spec, a few fields); 64 KiB is generous for them and bounds
/// what one request can make vznet buffer.
constexpr std::size_t kMaxBodyBytes = 64 * 1024;
/// How long a request waits for the loop to run its handler before answering 503 "vznet is busy". A healthy
/// loop answers in microseconds; 5 s means it is stuck, and the tool should hear so rather than hang.
constexpr auto kLoopTimeout = std::chrono::seconds(5);
/// How often a waiting request checks whether vznet is shutting down; bounds how long stop() waits for it.
constexpr auto kShutdownCheck = std::chrono::milliseconds(50);
/// httplib's pool defaults to max(8, cores - 1) threads. The API serves tools, not load: two are plenty.
constexpr std::size_t kHttpThreads = 2;
/// How long a connection may stay silent before sending its request. httplib 0.11 polls such a connection
/// every ~10 ms meanwhile, and stop() waits for it, so keep it short.
constexpr time_t kIdleConnectionSeconds = 2;

constexpr std::string_view kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

ApiResponse error_response(int status, std::string message) { return {status, {{"error", std::move(message)}}}; }

[[noreturn]] void fail(const std::string& sentence) { throw std::runtime_error(sentence); }

std::string errno_text(int error) { return std::error_code(error, std::generic_category()).message(); }

// "/forwards/{id}" -> {"forwards", "{id}"}; "/" -> {""}. `path` starts with '/'.
std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t start = 1;
  while (true) {
    const std::size_t slash = path.find('/', start);
    segments.emplace_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return segments;
    start = slash + 1;
  }
}

bool is_parameter(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Whether `path` fits the pattern `segments`; on a match, `param` is the parameter's segment (if any).
bool match_path(const std::vector<std::string>& segments, const std::vector<std::string>& path, std::string& param) {
  if (segments.size() != path.size()) return false;
  std::string found;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (is_parameter(segments[i])) {
      if (path[i].empty()) return false;
      found = path[i];
    } else if (segments[i] != path[i]) {
      return false;
    }
  }
  param = std::move(found);
  return true;
}

// Whether two patterns match the same paths ("/a/{id}" and "/a/{name}" do).
bool same_paths(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (is_parameter(a[i]) ? !is_parameter(b[i]) : a[i] != b[i]) return false;
  }
  return true;
}

void reply(httplib::Response& response, const ApiResponse& answer) {
  response.status = answer.status;
  if (answer.status == 204) return;
  if (!answer.text.empty()) {
    response.set_content(answer.text, "text/plain; version=0.0.4; charset=utf-8");
    return;
  }
  // replace: a handler's invalid UTF-8 must not turn into an exception on the way out.
  response.set_content(answer.body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                       "application/json");
}

// RFC 9112 section 6.3: a request with neither Content-Length nor Transfer-Encoding has no body. httplib 0.11
// would read such a body until EOF, stalling `curl -X POST` (no data) for the whole read timeout.
bool announces_body(const httplib::Request& request) {
  return request.has_header("Content-Length") || request.has_header("Transfer-Encoding");
}

// The error text for responses httplib produces itself (malformed request, URI too long...).
std::string describe_status(int status) {
  switch (status) {
    case 400: return "malformed HTTP request";
    case 404: return "no such endpoint";
    case 413: return "request too large";
    case 414: return "request URI too long";
    case 415: return "unsupported Content-Encoding";
    case 500: return "internal error";
    default: return "HTTP error " + std::to_string(status);
  }
}

// Creates the listening socket at `path` with mode 0600. bind() applies the process umask to the file it
// creates: under 0177 the file is 0600 from its first moment, so no other user can connect in between. The
// stale/in-use/not-a-socket checks are virtio's, shared with the guest listeners.
virtio::BoundSocket bind_private_socket(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;  // other errors (EACCES...) are left for bind() to report
    const std::filesystem::file_type type = std::filesystem::status(parent, ec).type();
    if (type == std::filesystem::file_type::not_found) {
      fail("directory " + parent.string() + " for socket " + path + " does not exist");
    }
    if (!ec && type != std::filesystem::file_type::directory) {
      fail(parent.string() + " (the directory for socket " + path + ") is not a directory");
    }
  }
  const mode_t previous = ::umask(0177);
  virtio::BoundSocket bound;
  try {
    bound = virtio::bind_unix_socket(path, SOCK_STREAM);
  } catch (...) {
    ::umask(previous);
    throw;
  }
  ::umask(previous);
  if (::chmod(path.c_str(), 0600) != 0) fail("cannot set mode 0600 on socket " + path + ": " + errno_text(errno));
  // bind_unix_socket() makes the socket non-blocking for Asio; httplib's accept loop blocks in accept() and
  // would spin on EAGAIN.
  const int flags = ::fcntl(bound.fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(bound.fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    fail("cannot configure socket " + path + ": " + errno_text(errno));
  }
  return bound;
}

}  // namespace

// cpp-httplib 0.11.4 binds only TCP (bind_to_port() resolves a host name). Its accept loop, though,
// listen_after_bind(), just serves the protected svr_sock_: accept(), SO_RCVTIMEO/SO_SNDTIMEO on the
// connection, then a worker. Nothing on that path assumes AF_INET: TCP_NODELAY and the socket_options
// callback are applied only to sockets httplib creates itself, and the REMOTE_ADDR/LOCAL_ADDR lookups
// (getpeername/getsockname) tolerate AF_UNIX (REMOTE_PORT becomes the peer's pid on Linux). So ControlApi
// creates the unix socket and lends it to the server here.
class ControlApi::Server final : public httplib::Server {
 public:
  explicit Server(ControlApi& api);

  /// Hands the accept loop a listening socket; httplib may close it if accept() fails for good.
  void lend_listener(int fd) { svr_sock_ = fd; }
  /// Takes the listening socket back. The accept loop ends the next time it looks (after accept() returns).
  /// httplib's own stop() is not used: it does nothing until the loop has set is_running_ (a stop() right
  /// after start() would be lost), and it closes the descriptor the loop may be about to accept() on.
  int take_listener() { return svr_sock_.exchange(INVALID_SOCKET); }

 private:
  void serve(const httplib::Request& request, httplib::Response& response, const httplib::ContentReader* reader);

  ControlApi& api_;
};

ControlApi::Server::Server(ControlApi& api) : api_(api) {
  new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  set_payload_max_length(kMaxBodyBytes);  // covers Content-Length bodies; serve() bounds the others
  // One request per connection: an unread body (413, 415) can never be parsed as the next request, and no
  // worker lingers in httplib's keep-alive polling after answering. Connecting to a unix socket costs nothing.
  set_keep_alive_max_count(1);
  set_keep_alive_timeout(kIdleConnectionSeconds);

  // Every path goes to serve(), which routes by itself: httplib's router cannot tell 404 from 405.
  const Handler plain = [this](const httplib::Request& request, httplib::Response& response) {
    serve(request, response, nullptr);
  };
  const HandlerWithContentReader with_body = [this](const httplib::Request& request, httplib::Response& response,
                                                    const httplib::ContentReader& reader) {
    serve(request, response, &reader);
  };
  Get(".*", plain);  // and HEAD
  Options(".*", plain);
  Post(".*", with_body);
  Put(".*", with_body);
  Patch(".*", with_body);
  Delete(".*", with_body);

  // Errors httplib answers itself (bad request line, 413 by Content-Length...) get a JSON body too.
  set_error_handler(HandlerWithResponse([](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return HandlerResponse::Unhandled;  // serve() wrote it
    reply(response, error_response(response.status, describe_status(response.status)));
    return HandlerResponse::Handled;
  }));
}

void ControlApi::Server::serve(const httplib::Request& request, httplib::Response& response,
                               const httplib::ContentReader* reader) {
  std::string body;
  if (reader && announces_body(request)) {
    if (request.is_multipart_form_data()) {
      return reply(response, error_response(415, "the request body must be JSON, not multipart/form-data"));
    }
    // httplib's payload limit covers Content-Length only; chunked and compressed bodies are bounded here.
    bool too_large = false;
    const bool complete = (*reader)([&](const char* data, std::size_t size) {
      if (body.size() + size > kMaxBodyBytes) {
        too_large = true;
        return false;
      }
      body.append(data, size);
      return true;
    });
    if (!complete) {
      if (too_large || response.status == 413) {
        return reply(response,
                     error_response(413, "the request body exceeds " + std::to_string(kMaxBodyBytes / 1024) + " KiB"));
      }
      if (response.status == 415) return reply(response, error_response(415, "unsupported Content-Encoding"));
      return reply(response, error_response(400, "the request body could not be read"));
    }
  }
  std::string allowed;
  reply(response, api_.answer(request.method == "HEAD" ? "GET" : request.method, request.path, body, allowed));
  if (!allowed.empty()) response.set_header("Allow", allowed);
}

ControlApi::ControlApi(asio::io_context& io, std::string socket_path) : io_(io), path_(std::move(socket_path)) {
  route("GET", "/health", [](const std::string&, const nlohmann::json&) {
    return ApiResponse{200, {{"status", "ok"}}};
  });
}

ControlApi::~ControlApi() { stop(); }

void ControlApi::route(std::string method, std::string pattern, ApiHandler handler) {
  if (started_) throw std::logic_error("ControlApi::route() after start()");
  if (std::find(std::begin(kMethods), std::end(kMethods), method) == std::end(kMethods)) {
    throw std::invalid_argument("control API route " + pattern + ": unsupported method " + method);
  }
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("control API route " + pattern + ": the pattern must start with /");
  }
  std::vector<std::string> segments = split_path(pattern);
  int parameters = 0;
  for (const std::string& segment : segments) {
    if (is_parameter(segment)) {
      ++parameters;
    } else if (segment.find_first_of("{}") != std::string::npos) {
      throw std::invalid_argument("control API route " + pattern + ": a {parameter} must be a whole segment");
    }
  }
  if (parameters > 1) throw std::invalid_argument("control API route " + pattern + ": at most one {parameter}");
  for (const Route& existing : routes_) {
    if (existing.method == method && same_paths(existing.segments, segments)) {
      throw std::invalid_argument("control API route " + method + " " + pattern + " is already defined");
    }
  }
  routes_.push_back({std::move(method), std::move(segments), std::move(handler)});
}

void ControlApi::start() {
  if (started_) throw std::logic_error("ControlApi::start() called twice");
  started_ = true;
  virtio::BoundSocket bound;
  try {
    bound = bind_private_socket(path_);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("cannot start the control API: ") + e.what());
  }
  const int lent = ::fcntl(bound.fd.get(), F_DUPFD_CLOEXEC, 0);
  if (lent < 0) fail("cannot start the control API on " + path_ + ": " + errno_text(errno));
  listener_ = std::move(bound.fd);
  file_ = std::move(bound.file);
  server_ = std::make_unique<Server>(*this);  // note: httplib::Server() sets SIGPIPE to SIG_IGN, process-wide
  server_->lend_listener(lent);
  try {
    thread_ = std::thread([this] {
      accept_loop_ok_ = server_->listen_after_bind();
      if (!accept_loop_ok_) {
        asio::post(io_, [path = path_] { spdlog::error("control API on {} stopped accepting connections", path); });
      }
    });
  } catch (const std::system_error& e) {
    stop();
    fail("cannot start the control API on " + path_ + ": " + e.what());
  }
  spdlog::info("control API listening on {}", path_);
}

void ControlApi::stop() {
  stopping_->store(true);
  if (server_) {
    const int lent = server_->take_listener();
    // Wakes the accept() the loop may be blocked in (it fails with EINVAL on Linux); the loop then finds
    // svr_sock_ gone and ends. The shutdown goes to our own descriptor, which nobody else closes.
    ::shutdown(listener_.get(), SHUT_RDWR);
    if (thread_.joinable()) thread_.join();  // also waits for the workers (ThreadPool::shutdown)
    // After an accept() failure httplib closed its descriptor itself (without clearing svr_sock_).
    if (accept_loop_ok_ && lent != INVALID_SOCKET) ::close(lent);
    server_.reset();
  }
  listener_.reset();
  file_.remove();
}

ApiResponse ControlApi::answer(const std::string& method, const std::string& path, const std::string& text,
                               std::string& allowed) {
  const std::vector<std::string> segments = split_path(path);
  const Route* found = nullptr;
  std::string param;
  for (const Route& route : routes_) {
    std::string candidate;
    if (!match_path(route.segments, segments, candidate)) continue;
    if (route.method == method) {
      found = &route;
      param = std::move(candidate);
      break;
    }
    if (allowed.find(route.method) == std::string::npos) allowed += (allowed.empty() ? "" : ", ") + route.method;
  }
  if (!found) {
    if (allowed.empty()) return error_response(404, "no such endpoint: " + path);
    return error_response(405, "method " + method + " is not allowed on " + path + " (allowed: " + allowed + ")");
  }
  allowed.clear();
  nlohmann::json body;
  if (!text.empty()) {
    try {
      body = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      std::string why = e.what();  // "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
      if (const auto end = why.find("] "); end != std::string::npos) why.erase(0, end + 2);
      return error_response(400, "the request body is not valid JSON: " + why);
    }
  }
  return run_on_loop(found->handler, method + " " + path, std::move(param), std::move(body));
}

ApiResponse ControlApi::run_on_loop(const ApiHandler& handler, const std::string& label, std::string param,
                                    nlohmann::json body) {
  if (stopping_->load() || io_.stopped()) return error_response(503, "vznet is shutting down");
  auto promise = std::make_shared<std::promise<ApiResponse>>();
  std::future<ApiResponse> result = promise->get_future();
  // Everything by value: if this request gives up waiting, the call may still run later, after this frame
  // (or the whole ControlApi) is gone. It then finds stopping_ set, or its answer is simply dropped.
  asio::post(io_, [promise, handler, label, stopping = stopping_, param = std::move(param), body = std::move(body)] {
    if (stopping->load()) return promise->set_value(error_response(503, "vznet is shutting down"));
    ApiResponse answer;
    try {
      answer = handler(param, body);
    } catch (const std::exception& e) {
      spdlog::warn("control API: {} failed: {}", label, e.what());
      answer = error_response(500, e.what());
    } catch (...) {
      spdlog::warn("control API: {} failed with an unknown exception", label);
      answer = error_response(500, "unknown exception");
    }
    promise->set_value(std::move(answer));
  });
  const auto deadline = std::chrono::steady_clock::now() + kLoopTimeout;
  while (result.wait_for(kShutdownCheck) != std::future_status::ready) {
    if (stopping_->load() || io_.stopped()) return error_response(503, "vznet is shutting down");
    if (std::chrono::steady_clock::now() >= deadline) {
      asio::post(io_, [label] {
        spdlog::warn("control API: {} waited {} s for the loop; answered 503", label, kLoopTimeout.count());
      });
      return error_response(503, "vznet is busy");
    }
  }
  return result.get();
}

}  // namespace vznet::app

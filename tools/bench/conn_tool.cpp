// vznet-bench-conn: the benchmark's TCP connection load, in C++ so the client is never the bottleneck
// (a Python loop tops out well below the 20,000 connections/s being measured). Plain POSIX sockets.
//
//   vznet-bench-conn serve PORT             accept and close at once, forever (IPv4 any address)
//   vznet-bench-conn hold-server PORT       accept and keep every connection open, forever
//   vznet-bench-conn rate HOST PORT SECONDS THREADS
//                                           connect+close in THREADS loops for SECONDS; prints
//                                           "connections N failures F seconds S rate R"; a connect
//                                           that takes over 1 s fails
//   vznet-bench-conn hold HOST PORT COUNT SECONDS
//                                           open COUNT connections, print "established N" once all are up
//                                           (or SECONDS pass), keep them SECONDS more, then exit
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

/// A mistyped argument exits 2 naming it; it must not become 0 (as with atoi), which would run the benchmark
/// against port 0 or with no threads and still report a rate.
[[noreturn]] void bad_argument(const char* what, const char* text) {
  std::fprintf(stderr, "bad %s: %s\n", what, text);
  std::exit(2);
}

int whole_number(const char* what, const char* text) {
  const std::string_view view(text);
  int value = 0;
  const auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (view.empty() || error != std::errc{} || end != view.data() + view.size()) bad_argument(what, text);
  return value;
}

// strtod, not from_chars: libc++ (macOS) has no floating-point from_chars.
double seconds_argument(const char* text) {
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || errno != 0) bad_argument("SECONDS", text);
  return value;
}

void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

sockaddr_in endpoint(const char* host, int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host, &address.sin_addr) != 1) {
    std::fprintf(stderr, "bad IPv4 address %s\n", host);
    std::exit(2);
  }
  return address;
}

int listen_on(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address = endpoint("0.0.0.0", port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(fd, 4096) != 0) {
    std::perror("bind/listen");
    std::exit(1);
  }
  return fd;
}

/// Closes with RST: neither side keeps TIME_WAIT, so a long run does not exhaust ephemeral ports.
void close_abortively(int fd) {
  const linger hard{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  close(fd);
}

int serve(int port, bool hold) {
  const int listener = listen_on(port);
  std::vector<int> held;
  for (;;) {
    const int fd = accept(listener, nullptr, nullptr);
    if (fd < 0) continue;
    if (hold) {
      held.push_back(fd);
    } else {
      close_abortively(fd);
    }
  }
}

constexpr timeval kConnectTimeout{1, 0};

int rate(const char* host, int port, double seconds, int threads) {
  const sockaddr_in address = endpoint(host, port);
  std::atomic<long> connections{0}, failures{0};
  std::atomic<int> first_errno{0};
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      long ok = 0, bad = 0;
      while (Clock::now() < deadline) {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        // A stack that stops answering must not hang the run past its deadline: connect() gives up after
        // kConnectTimeout (EINPROGRESS), counted as a failure.
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &kConnectTimeout, sizeof kConnectTimeout);
        // ECONNRESET: established, then reset by the server's abortive close before connect() returned
        // (a refused SYN is ECONNREFUSED): a completed connection.
        if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 || errno == ECONNRESET) {
          ++ok;
        } else {
          int expected = 0;
          first_errno.compare_exchange_strong(expected, errno);
          ++bad;
        }
        close_abortively(fd);
      }
      connections += ok;
      failures += bad;
    });
  }
  for (auto& worker : workers) worker.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("connections %ld failures %ld seconds %.3f rate %.0f first_error %s\n", connections.load(),
              failures.load(), elapsed, static_cast<double>(connections.load()) / elapsed,
              first_errno.load() != 0 ? std::strerror(first_errno.load()) : "none");
  return failures.load() == 0 ? 0 : 1;
}

int hold(const char* host, int port, int count, double seconds) {
  const sockaddr_in address = endpoint(host, port);
  std::vector<int> fds;
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  int established = 0;
  for (int i = 0; i < count && Clock::now() < deadline; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) ++established;
    fds.push_back(fd);
  }
  std::printf("established %d\n", established);
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  for (int fd : fds) close_abortively(fd);
  return established == count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  raise_fd_limit();
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "serve" && argc == 3) return serve(whole_number("PORT", argv[2]), false);
  if (mode == "hold-server" && argc == 3) return serve(whole_number("PORT", argv[2]), true);
  if (mode == "rate" && argc == 6) {
    return rate(argv[2], whole_number("PORT", argv[3]), seconds_argument(argv[4]), whole_number("THREADS", argv[5]));
  }
  if (mode == "hold" && argc == 6) {
    return hold(argv[2], whole_number("PORT", argv[3]), whole_number("COUNT", argv[4]), seconds_argument(argv[5]));
  }
  std::fprintf(stderr, "usage: see the top of tools/bench/conn_tool.cpp\n");
  return 2;
}

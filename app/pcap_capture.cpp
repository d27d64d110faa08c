// PcapCapture (see pcap_capture.h): libpcap does the format; this owns the file's lifetime and its rotation.
// libpcap is loaded with dlopen() when the first capture starts, not linked: its dependencies (libdbus, libsystemd,
// libgcrypt and five compression and helper libraries on Debian 12) added 1.4 MiB to every vznet's idle RSS,
// capturing or not. The header still gives the types and, through decltype, each function's exact signature.
#include "app/pcap_capture.h"

#include <dlfcn.h>
#include <pcap/pcap.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace vznet::app {
namespace {

/// tcpdump's default: the largest frame vznet carries (MTU 65520 + 14) fits whole.
constexpr int kSnapLength = 262144;
/// pcap's file header and each record's header (classic format, as libpcap writes it).
constexpr std::uint64_t kFileHeader = 24;
constexpr std::uint64_t kRecordHeader = 16;

/// The libpcap functions a capture uses, resolved once from the first of these names that loads (Linux
/// distributions' sonames, then macOS's).
struct LibPcap {
  decltype(&pcap_open_dead) open_dead = nullptr;
  decltype(&pcap_close) close = nullptr;
  decltype(&pcap_geterr) geterr = nullptr;
  decltype(&pcap_dump_open) dump_open = nullptr;
  decltype(&pcap_dump) dump = nullptr;
  decltype(&pcap_dump_flush) dump_flush = nullptr;
  decltype(&pcap_dump_close) dump_close = nullptr;
};

template <typename Function>
void resolve(void* library, const char* name, Function& function) {
  function = reinterpret_cast<Function>(::dlsym(library, name));
  if (function == nullptr) throw std::runtime_error(std::string("libpcap has no ") + name);
}

/// Loads libpcap on first use; throws std::runtime_error saying what is missing (the library stays loaded).
const LibPcap& libpcap() {
  static const LibPcap loaded = [] {
    void* library = nullptr;
    for (const char* name : {"libpcap.so.1", "libpcap.so.0.8", "libpcap.A.dylib", "libpcap.dylib", "libpcap.so"}) {
      if ((library = ::dlopen(name, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
    }
    if (library == nullptr) {
      const char* why = ::dlerror();
      throw std::runtime_error(std::string("capturing needs libpcap (Debian: libpcap0.8): ") +
                               (why ? why : "not found"));
    }
    LibPcap f;
    resolve(library, "pcap_open_dead", f.open_dead);
    resolve(library, "pcap_close", f.close);
    resolve(library, "pcap_geterr", f.geterr);
    resolve(library, "pcap_dump_open", f.dump_open);
    resolve(library, "pcap_dump", f.dump);
    resolve(library, "pcap_dump_flush", f.dump_flush);
    resolve(library, "pcap_dump_close", f.dump_close);
    return f;
  }();
  return loaded;
}

}  // namespace

PcapCapture::PcapCapture(std::string path, std::uint64_t max_bytes) {
  if (max_bytes < kFileHeader + kRecordHeader + kSnapLength) {
    throw std::invalid_argument("a pcap size limit must be at least " +
                                std::to_string((kFileHeader + kRecordHeader + kSnapLength + (1 << 20) - 1) >> 20) +
                                " MiB");
  }
  status_.path = std::move(path);
  status_.max_bytes = max_bytes;
  handle_ = libpcap().open_dead(DLT_EN10MB, kSnapLength);
  if (handle_ == nullptr) throw std::runtime_error("libpcap could not start a capture");
  try {
    open();
  } catch (...) {
    libpcap().close(handle_);
    throw;
  }
  spdlog::info("capturing guest frames to {} (rotated at {} MiB)", status_.path, max_bytes >> 20);
}

PcapCapture::~PcapCapture() {
  close();
  libpcap().close(handle_);
  spdlog::info("capture to {} ended: {} frames, {} bytes, {} rotations", status_.path, status_.frames, status_.bytes,
               status_.rotations);
}

void PcapCapture::open() {
  dumper_ = libpcap().dump_open(handle_, status_.path.c_str());
  if (dumper_ == nullptr) throw std::runtime_error(libpcap().geterr(handle_));  // "PATH: why"
  file_bytes_ = kFileHeader;
}

void PcapCapture::close() {
  if (dumper_ == nullptr) return;
  libpcap().dump_close(dumper_);  // flushes
  dumper_ = nullptr;
}

void PcapCapture::rotate() {
  close();
  const std::string previous = status_.path + ".1";
  if (std::rename(status_.path.c_str(), previous.c_str()) != 0) {
    spdlog::warn("capture: cannot rename {} to {}: {}", status_.path, previous, std::strerror(errno));
  }
  try {
    open();
    ++status_.rotations;
  } catch (const std::runtime_error& e) {
    spdlog::error("capture: {}; frames are lost until the capture is restarted", e.what());
  }
}

void PcapCapture::frame(virtio::PortId, Direction, virtio::Frame frame) {
  const auto captured = static_cast<std::uint32_t>(std::min<std::size_t>(frame.size(), kSnapLength));
  if (dumper_ != nullptr && file_bytes_ + kRecordHeader + captured > status_.max_bytes) rotate();
  if (dumper_ == nullptr) {
    ++status_.write_errors;
    return;
  }
  pcap_pkthdr header{};
  ::gettimeofday(&header.ts, nullptr);
  header.caplen = captured;
  header.len = static_cast<std::uint32_t>(frame.size());
  libpcap().dump(reinterpret_cast<u_char*>(dumper_), &header, frame.data());
  file_bytes_ += kRecordHeader + captured;
  ++status_.frames;
  status_.bytes += captured;
}

void PcapCapture::flush() {
  if (dumper_ != nullptr && libpcap().dump_flush(dumper_) != 0) ++status_.write_errors;
}

}  // namespace vznet::app

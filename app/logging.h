// vznet's log lines on stderr: the text form people read ("2026-12-02T09:10:00.123 info guest attached: ...") or,
// with --log-format json, one JSON object a line for log collectors:
//   {"time":"2026-12-02T09:10:00.123+00:00","level":"info","message":"guest attached: ..."}
// The message is escaped for JSON here (quotes, backslashes, control characters; bytes that are not UTF-8 become
// U+FFFD), so a guest-chosen name in a message can never break a line's JSON.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <spdlog/formatter.h>

namespace vznet::app {

enum class LogFormat : std::uint8_t { text, json };

/// The formatter of one format (tests format lines with it).
std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format);
/// Makes the default logger write to stderr in `format` at `level` (as --log-level spells it).
void set_up_logging(LogFormat format, const std::string& level);

}  // namespace vznet::app

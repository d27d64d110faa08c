// Unit tests for the log formats (app/logging.h): a JSON line parses as JSON whatever the message holds (quotes,
// backslashes, control characters, UTF-8, bytes that are not UTF-8), with its time, level and exact message; the
// text form is the one people read.
#include "app/logging.h"

#include <gtest/gtest.h>

#include <spdlog/details/log_msg.h>
#include <nlohmann/json.hpp>

#include <string>

namespace vznet::app {
namespace {

std::string formatted(LogFormat format, std::string_view message, spdlog::level::level_enum level) {
  const spdlog::details::log_msg msg("vznet", level, spdlog::string_view_t(message.data(), message.size()));
  spdlog::memory_buf_t out;
  make_log_formatter(format)->format(msg, out);
  return std::string(out.data(), out.size());
}

nlohmann::json json_line(std::string_view message, spdlog::level::level_enum level = spdlog::level::info) {
  const std::string line = formatted(LogFormat::json, message, level);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line: " << line;
  return nlohmann::json::parse(line);  // throws, failing the test, if it is not JSON
}

TEST(LogFormat, JsonLinesCarryTimeLevelAndTheExactMessage) {
  const nlohmann::json line = json_line("guest attached: unix:/tmp/s.sock#1", spdlog::level::warn);
  EXPECT_EQ(line["level"], "warning");
  EXPECT_EQ(line["message"], "guest attached: unix:/tmp/s.sock#1");
  const std::string time = line["time"];
  EXPECT_EQ(time.size(), std::string("2026-12-02T09:10:00.123+00:00").size()) << time;
  EXPECT_EQ(time[10], 'T');
}

TEST(LogFormat, JsonEscapesWhatAMessageMayHold) {
  EXPECT_EQ(json_line(R"(name "db\vz" here)")["message"], R"(name "db\vz" here)");
  EXPECT_EQ(json_line("two\nlines\tand\r\x01\x1f\x7f")["message"], "two\nlines\tand\r\x01\x1f\x7f");
  EXPECT_EQ(json_line("caf\xc3\xa9 \xf0\x9f\x90\xa7")["message"], "caf\xc3\xa9 \xf0\x9f\x90\xa7") << "UTF-8 stays";
}

TEST(LogFormat, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  const std::string replacement = "\xef\xbf\xbd";
  EXPECT_EQ(json_line("a\xff"
                      "b")["message"],
            "a" + replacement + "b");
  EXPECT_EQ(json_line("cut \xc3")["message"], "cut " + replacement);
  EXPECT_EQ(json_line("overlong \xc0\x80")["message"], "overlong " + replacement + replacement);
  EXPECT_EQ(json_line("surrogate \xed\xa0\x80")["message"], "surrogate " + replacement + replacement + replacement);
}

TEST(LogFormat, TextIsTheReadableForm) {
  const std::string line = formatted(LogFormat::text, "DHCP: 192.168.64.2 leased", spdlog::level::info);
  EXPECT_NE(line.find(" info DHCP: 192.168.64.2 leased\n"), std::string::npos) << line;
  EXPECT_EQ(line[10], 'T');
}

}  // namespace
}  // namespace vznet::app

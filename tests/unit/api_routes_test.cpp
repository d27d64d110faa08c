// POST /forwards bodies: the JSON forms of a -p spec (app/api_routes.h).
#include <gtest/gtest.h>

#include "app/api_routes.h"

namespace vznet::app {
namespace {

using nlohmann::json;

TEST(ApiForwardBody, SpecStringIsTheFlagSyntax) {
  EXPECT_EQ(publish_spec_from_json(json::parse(R"({"spec": "0.0.0.0:5353:53/udp"})")).to_string(),
            "0.0.0.0:5353:53/udp");
}

TEST(ApiForwardBody, FieldsBuildTheSameSpec) {
  struct Case {
    const char* body;
    const char* spec;
  };
  for (const Case& c : {
           Case{R"({"guest_port": 80})", "127.0.0.1::80/tcp"},
           Case{R"({"host_port": 8080, "guest_port": 80})", "127.0.0.1:8080:80/tcp"},
           Case{R"({"host_port": "8080-8081", "guest_port": "80-81", "protocol": "udp"})",
                "127.0.0.1:8080-8081:80-81/udp"},
           Case{R"({"host_address": "0.0.0.0", "host_port": 8080, "guest_address": "192.168.64.3", "guest_port": 80})",
                "0.0.0.0:8080:192.168.64.3:80/tcp"},
           Case{R"({"host_address": "::1", "host_port": 8080, "guest_port": 80})", "[::1]:8080:80/tcp"},
       }) {
    EXPECT_EQ(publish_spec_from_json(json::parse(c.body)).to_string(), c.spec) << c.body;
  }
}

TEST(ApiForwardBody, BadBodiesSayWhy) {
  struct Case {
    const char* body;
    const char* mentions;
  };
  for (const Case& c : {
           Case{R"([1, 2])", "JSON object"},
           Case{R"({})", "guest_port"},
           Case{R"({"spec": "8080:80", "guest_port": 80})", "not both"},
           Case{R"({"spec": 8080})", "must be a string"},
           Case{R"({"guest_port": 80, "colour": "red"})", "colour"},
           Case{R"({"guest_port": -1})", "port number"},
           Case{R"({"guest_port": 80, "protocol": "sctp"})", "sctp"},
           Case{R"({"spec": "0:80"})", "\"0\""},
       }) {
    try {
      publish_spec_from_json(json::parse(c.body));
      ADD_FAILURE() << c.body << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(c.mentions), std::string::npos) << c.body << ": " << e.what();
    }
  }
}

}  // namespace
}  // namespace vznet::app

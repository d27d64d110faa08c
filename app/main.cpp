// vznet's entry point: flags (or sockets passed by socket activation) -> Config -> Runtime. Start-up failures
// become one clear line and exit code 2.
#include <csignal>
#include <cstdio>
#include <exception>

#include "app/config.h"
#include "app/logging.h"
#include "app/process_resources.h"
#include "app/runtime.h"
#include "app/socket_activation.h"

int main(int argc, char** argv) {
  auto outcome = vznet::app::parse_command_line(argc, argv);
  if (!outcome.config) {
    std::fputs(outcome.message.c_str(), outcome.exit_code == 0 ? stdout : stderr);
    if (!outcome.message.empty() && outcome.message.back() != '\n')
      std::fputc('\n', outcome.exit_code == 0 ? stdout : stderr);
    return outcome.exit_code;
  }
  std::signal(SIGPIPE, SIG_IGN);  // a vanished peer is an error code on the write, not a dead process
  vznet::app::set_up_logging(outcome.config->log_format, outcome.config->log_level);
  if (outcome.config->listen.empty()) outcome.config->listen = vznet::app::activated_listeners();
  vznet::app::raise_descriptor_limit(outcome.config->forward.max_flows);
  vznet::app::keep_packet_memory();
  try {
    vznet::app::Runtime runtime(*outcome.config);
    runtime.start();
    return runtime.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vznet: %s\n", e.what());
    return 2;
  }
}

// GET /metrics: vznet's counters and gauges in the Prometheus text exposition format (version 0.0.4), read
// fresh from the runtime on each scrape. Names start with vznet_; every counter array (drops by reason, events)
// becomes one family with the reason or event as a label, so a new reason needs no change here.
#pragma once

#include <string>

namespace vznet::app {

class Runtime;

/// The exposition text: "# HELP", "# TYPE" and samples, one family after another.
std::string prometheus_metrics(Runtime& rt);

}  // namespace vznet::app

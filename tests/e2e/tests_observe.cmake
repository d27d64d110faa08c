# Observability end-to-end tests (scenarios_observe.sh), included by CMakeLists.txt. The capture tap sits in the
# switch and the metrics above it, above every transport: one or two framings suffice.
vznet_e2e_test(pcap 90 unix unixgram)
vznet_e2e_test(metrics_json_logs 60 unixgram)

# Limit scenarios (scenarios_limits.sh), included by CMakeLists.txt: many flows, shut windows, a guest that
# vanishes under load. The limits are decided in forward/, after the link; the datagram framing (macOS
# hypervisors) also runs the two that move data.
vznet_e2e_test(hostile_many_flows 180 unix)
vznet_e2e_test(hostile_zero_window 180 unix unixgram)
vznet_e2e_test(hostile_vanish 150 unix unixgram)

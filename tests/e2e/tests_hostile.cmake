# Attack tests (scenarios_hostile.sh), included by CMakeLists.txt: crafted frames from the guest namespace.
# What they attack is decided in forward/ and stack/, after the link: one framing is enough.
vznet_e2e_test(hostile_destinations 90 unix)
vznet_e2e_test(hostile_destinations_block_host 90 unix)
vznet_e2e_test(hostile_destinations_block_private 90 unix)
vznet_e2e_test(hostile_destinations_default_deny 90 unix)
vznet_e2e_test(tcp_port_reuse 90 unix unixgram)
vznet_e2e_test(hostile_syn_flood 90 unix unixgram)
vznet_e2e_test(hostile_garbage 120 unix unixgram)
vznet_e2e_test(hostile_udp_spray 90 unix)
vznet_e2e_test(hostile_sigterm_under_load 60 unix)

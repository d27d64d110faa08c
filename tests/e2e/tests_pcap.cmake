# Packet capture end-to-end tests (scenarios_pcap.sh), included by CMakeLists.txt. The tap sits in the switch,
# above every transport: the stream and the datagram framing suffice.
vznet_e2e_test(pcap 90 unix unixgram)

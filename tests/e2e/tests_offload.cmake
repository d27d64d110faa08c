# Offload end-to-end tests (scenarios_offload.sh), included by CMakeLists.txt: krunkit's offloading=on, over
# its datagram framing and over the stream one.
vznet_e2e_test(offload_bulk 180 unixgram unix)

# DHCP attack end-to-end tests (scenarios_attack_dhcp.sh), included by CMakeLists.txt. The server and the guard
# sit above every transport; a stream and a datagram framing show the replies reach one port over either.
vznet_e2e_test(attack_dhcp_identity 120 unix unixgram)

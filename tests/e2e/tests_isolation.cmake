# Guest isolation end-to-end tests (scenarios_isolation.sh), included by CMakeLists.txt. Two guests attach
# over the same framing; the guard sits in the switch, above every transport, so two framings suffice.
vznet_e2e_test(isolation_spoofing 120 unix unixgram)
vznet_e2e_test(isolation_guest_traffic 90 unix unixpacket)
vznet_e2e_test(static_address 90 unix unixgram)
vznet_e2e_test(static_address_dhcp_only 60 unixpacket)

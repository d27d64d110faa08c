# DHCP end-to-end tests (scenarios_dhcp.sh), included by CMakeLists.txt. The server does not depend on the
# framing, so each scenario runs over the framings where it tells something: udhcpc over all three (the
# broadcast path of each), the slower ones (dhclient waits out T1, QEMU boots a kernel) over fewer.
vznet_e2e_test(dhcp_udhcpc 90 unix unixgram unixpacket)
vznet_e2e_test(dhcp_dhclient 150 unix unixgram)
vznet_e2e_test(dhcp_two_guests 90 unix unixpacket)
vznet_e2e_test(dhcp_static 90 unixgram)
vznet_e2e_test(dhcp_qemu 240 unix unixgram)

# Published-port end-to-end tests (scenarios_publish.sh), included by CMakeLists.txt. The client side is the
# host's kernel and the guest side goes through lwIP whatever the framing, so the plain HTTP case runs over
# all three framings and the rest over the stream framing (UDP also over datagrams).
vznet_e2e_test(publish_http 90 unix unixgram unixpacket)
vznet_e2e_test(publish_udp 60 unix unixgram)
vznet_e2e_test(publish_range 60 unix)
vznet_e2e_test(publish_bulk 240 unix)
vznet_e2e_test(publish_many 120 unix)
vznet_e2e_test(publish_refused 60 unix)
vznet_e2e_test(publish_bad 60 any)
vznet_e2e_test(publish_api 90 unix)

# DNS end-to-end tests (scenarios_dns.sh), included by CMakeLists.txt. The server sits behind lwIP and does
# not depend on the framing, so one framing is enough for most scenarios; the plain answers run over all
# three, since they are cheap and cover the UDP and TCP paths of each link.
vznet_e2e_test(dns_answers 90 unix unixgram unixpacket)
vznet_e2e_test(dns_truncation 60 unix)
vznet_e2e_test(dns_zone 60 unix)
vznet_e2e_test(dns_upstream_down 60 unix)
vznet_e2e_test(dns_timeout_flag 60 unixgram)
vznet_e2e_test(dns_burst 180 unix)

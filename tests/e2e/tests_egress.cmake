# Egress policy end-to-end tests (scenarios_egress.sh), included by CMakeLists.txt. The policy is applied
# in forward/, after the link, so one framing is enough; the plain case and --block-private also run over
# the datagram framing.
vznet_e2e_test(egress_default 60 unix unixgram)
vznet_e2e_test(egress_block_private 60 unix unixgram)
vznet_e2e_test(egress_nodeport 60 unix)
vznet_e2e_test(egress_metadata 60 unix)
vznet_e2e_test(egress_block_host 60 unix)
vznet_e2e_test(egress_policy_file 60 unix)

# Socket activation end-to-end tests (scenarios_activation.sh), included by CMakeLists.txt: a stream and a
# datagram socket passed by systemd-socket-activate.
vznet_e2e_test(socket_activation 60 unix unixgram)

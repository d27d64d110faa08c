# The demo of tools/try.sh (scenarios_try.sh) as an end-to-end test, so the demo stays working. One framing.
vznet_e2e_test(try 240 unix)

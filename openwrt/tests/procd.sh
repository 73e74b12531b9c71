# openwrt/tests/procd.sh: a stand-in for OpenWrt's /lib/functions/procd.sh that records each
# call (name and arguments, separated by tabs) in $SHIM_LOG instead of talking to procd over
# ubus. procd_close_service runs service_triggers first, as procd.sh does.
#
# shellcheck shell=sh

procd_open_service() { shim_record procd_open_service "$@"; }
procd_close_service() {
	service_triggers
	shim_record procd_close_service "$@"
}
procd_open_instance() { shim_record procd_open_instance "$@"; }
procd_set_param() { shim_record procd_set_param "$@"; }
procd_append_param() { shim_record procd_append_param "$@"; }
procd_close_instance() { shim_record procd_close_instance "$@"; }
procd_add_reload_trigger() { shim_record procd_add_reload_trigger "$@"; }
procd_add_interface_trigger() { shim_record procd_add_interface_trigger "$@"; }
procd_add_reload_interface_trigger() { shim_record procd_add_reload_interface_trigger "$@"; }
procd_add_reload_mount_trigger() { shim_record procd_add_reload_mount_trigger "$@"; }
procd_send_signal() { shim_record procd_send_signal "$@"; }
procd_kill() { shim_record procd_kill "$@"; }

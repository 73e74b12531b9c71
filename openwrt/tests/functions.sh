# openwrt/tests/functions.sh: a stand-in for the parts of OpenWrt's /lib/functions.sh and
# /lib/functions/network.sh that openwrt/files/trackseed.init uses, for tests on a build
# machine (sourced by openwrt/tests/rc.common).
#
# config_load PACKAGE reads $UCI_CONFIG_DIR/PACKAGE. A UCI file is a series of shell-like
# commands (`config TYPE ['NAME']`, `option NAME 'VALUE'`, `list NAME 'VALUE'`, # comments),
# and OpenWrt loads a package by evaluating `uci export` output with functions of those names
# defined; this does the same with the file itself. The values are stored as OpenWrt stores
# them (CONFIG_<section>_<option>, lists as _LENGTH and _ITEM<n>), so config_get,
# config_get_bool, config_list_foreach and config_foreach behave as OpenWrt's: an empty value
# counts as unset, booleans are 1/0/on/off/true/false/yes/no/enabled/disabled.
#
# Also here: logger and network_get_device, which record their calls in $SHIM_LOG;
# network_get_device answers $SHIM_NETDEV (unset or empty: the interface is down).
#
# shellcheck shell=sh disable=SC3043

# shim_record WORD...: appends one line, the words separated by tabs, to $SHIM_LOG.
shim_record() {
	local IFS='	'
	printf '%s\n' "$*" >>"${SHIM_LOG:?SHIM_LOG must name the record file}"
}

config_load() {
	CONFIG_SECTIONS=""
	CONFIG_NUM_SECTIONS=0
	CONFIG_SECTION=""
	local file="${UCI_CONFIG_DIR:-/etc/config}/$1"
	[ -f "$file" ] || return 1
	# shellcheck source=/dev/null
	. "$file"
}

config() {
	CONFIG_NUM_SECTIONS=$((CONFIG_NUM_SECTIONS + 1))
	CONFIG_SECTION="${2:-cfg$CONFIG_NUM_SECTIONS}"
	CONFIG_SECTIONS="$CONFIG_SECTIONS $CONFIG_SECTION"
	config_set "$CONFIG_SECTION" TYPE "$1"
}

option() {
	config_set "$CONFIG_SECTION" "$1" "$2"
}

list() {
	local len
	config_get len "$CONFIG_SECTION" "${1}_LENGTH" 0
	len=$((len + 1))
	config_set "$CONFIG_SECTION" "${1}_ITEM$len" "$2"
	config_set "$CONFIG_SECTION" "${1}_LENGTH" "$len"
	# The option itself holds the items separated by spaces, as OpenWrt's does.
	local all
	config_get all "$CONFIG_SECTION" "$1"
	config_set "$CONFIG_SECTION" "$1" "${all:+$all }$2"
}

config_set() {
	eval "CONFIG_${1}_${2}=\$3"
}

# config_get VAR SECTION OPTION [DEFAULT], or config_get SECTION OPTION (prints the value).
config_get() {
	if [ $# -eq 2 ]; then
		eval "printf '%s' \"\${CONFIG_${1}_${2}:-}\""
		return
	fi
	eval "$1=\${CONFIG_${2}_${3}:-\$4}"
}

config_get_bool() {
	local _bool
	config_get _bool "$2" "$3" "$4"
	case "$_bool" in
	1 | on | true | yes | enabled) _bool=1 ;;
	0 | off | false | no | disabled) _bool=0 ;;
	*) _bool="$4" ;;
	esac
	eval "$1=\$_bool"
}

# config_foreach FUNCTION [TYPE [ARG...]]: FUNCTION SECTION ARG... for each section of TYPE.
config_foreach() {
	local _function="$1" _type="${2:-}" _section _section_type
	[ $# -lt 2 ] || shift
	shift
	for _section in $CONFIG_SECTIONS; do
		config_get _section_type "$_section" TYPE
		[ -z "$_type" ] || [ "$_section_type" = "$_type" ] || continue
		"$_function" "$_section" "$@"
	done
}

# config_list_foreach SECTION OPTION FUNCTION [ARG...]: FUNCTION ITEM ARG... for each item.
config_list_foreach() {
	local _section="$1" _option="$2" _function="$3" _len _item _i=1
	shift 3
	config_get _len "$_section" "${_option}_LENGTH" 0
	while [ "$_i" -le "$_len" ]; do
		config_get _item "$_section" "${_option}_ITEM$_i"
		"$_function" "$_item" "$@"
		_i=$((_i + 1))
	done
}

logger() {
	shim_record logger "$@"
}

network_get_device() {
	shim_record network_get_device "$2"
	eval "$1=\${SHIM_NETDEV:-}"
	[ -n "${SHIM_NETDEV:-}" ]
}

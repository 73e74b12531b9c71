#!/bin/sh
# openwrt/build-ipk.sh [--binary FILE [--no-check]] [--out DIR] ARCH
# openwrt/build-ipk.sh --target-of ARCH
#
# Builds target/ipk/trackseed_VERSION_ARCH.ipk, the package openwrt/Makefile makes with the
# OpenWrt SDK, without the SDK: a static release build by cross/build.sh (run cross/setup.sh
# once first), openwrt/files/, and the control files package-pack.mk would write, packed the
# way scripts/ipkg-build packs them for opkg (OpenWrt up to 24.10):
#
#   the .ipk      gzip -n of a GNU tar of ./debian-binary ./data.tar.gz ./control.tar.gz,
#                 in that order (not Debian's ar archive);
#   debian-binary "2.0\n";
#   data.tar.gz   the files to install (./usr/bin/trackseed ...), control.tar.gz the control
#                 files; both gzip -n of GNU tars sorted by name.
#
# Every tar member is owned by 0:0 (numeric) and dated SOURCE_DATE_EPOCH (default: the time
# of the last git commit), so the same tree gives the same bytes.
#
#   ARCH           opkg's architecture name (`opkg print-architecture` on the router);
#                  run without arguments for the list this script knows.
#   --binary FILE  pack FILE instead of building; its ELF class, byte order and machine
#                  must suit ARCH, unless --no-check (any file: for tests of the layout).
#   --out DIR      where the .ipk goes (default target/ipk). The last line printed is its path.
#   --target-of    only print the Rust target for ARCH (or fail with the list of ARCH values).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)

# ARCH -> Rust target. The ARM builds need no more than their family's baseline (ARMv7 with
# VFPv3-D16 and Thumb-2, no NEON; ARMv8-A), so each serves every opkg architecture listed
# with it; the MIPS builds are for MIPS32r2 (24Kc).
target_of() {
	case "$1" in
	mips_24kc) echo mips-unknown-linux-musl ;;
	mipsel_24kc) echo mipsel-unknown-linux-musl ;;
	arm_cortex-a7_neon-vfpv4 | arm_cortex-a9_vfpv3-d16 | arm_cortex-a9_neon | \
		arm_cortex-a15_neon-vfpv4) echo armv7-unknown-linux-musleabihf ;;
	aarch64_cortex-a53 | aarch64_cortex-a72 | aarch64_cortex-a76 | aarch64_generic)
		echo aarch64-unknown-linux-musl
		;;
	*) return 1 ;;
	esac
}
KNOWN="mips_24kc mipsel_24kc arm_cortex-a7_neon-vfpv4 arm_cortex-a9_vfpv3-d16
  arm_cortex-a9_neon arm_cortex-a15_neon-vfpv4 aarch64_cortex-a53 aarch64_cortex-a72
  aarch64_cortex-a76 aarch64_generic"

die() {
	echo "openwrt/build-ipk: $*" >&2
	exit 1
}

usage() {
	echo "usage: openwrt/build-ipk.sh [--binary FILE [--no-check]] [--out DIR] ARCH" >&2
	echo "       openwrt/build-ipk.sh --target-of ARCH" >&2
	echo "ARCH is one of:" >&2
	echo "  $KNOWN" >&2
	exit 2
}

binary=""
check=1
out="$root/target/ipk"
arch=""
target_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	--binary)
		[ $# -ge 2 ] || usage
		binary=$2
		shift 2
		;;
	--no-check)
		check=0
		shift
		;;
	--target-of)
		target_only=1
		shift
		;;
	--out)
		[ $# -ge 2 ] || usage
		out=$2
		shift 2
		;;
	-h | --help) usage ;;
	-*) die "unknown option $1" ;;
	*)
		[ -z "$arch" ] || usage
		arch=$1
		shift
		;;
	esac
done
[ -n "$arch" ] || usage
target=$(target_of "$arch") || {
	echo "openwrt/build-ipk: unknown ARCH '$arch'. Known (opkg architecture -> Rust target):" >&2
	for a in $KNOWN; do
		echo "  $a -> $(target_of "$a")" >&2
	done
	exit 2
}
if [ "$target_only" = 1 ]; then
	echo "$target"
	exit 0
fi

# GNU tar: --sort=name and --mtime, as ipkg-build uses (busybox tar has neither).
tar --version 2>/dev/null | grep -q 'GNU tar' || die "needs GNU tar (apt-get install tar)"

# ELF check: class (1: 32-bit, 2: 64-bit), byte order (1: little, 2: big), e_machine.
check_elf() {
	case "$target" in
	mips-*) want="1 2 8" ;;
	mipsel-*) want="1 1 8" ;;
	armv7-*) want="1 1 40" ;;
	aarch64-*) want="2 1 183" ;;
	esac
	# shellcheck disable=SC2046  # od's words are the bytes
	set -- $(od -An -tu1 -N20 "$1")
	if [ $# -ne 20 ] || [ "$1 $2 $3 $4" != "127 69 76 70" ]; then
		die "$binary is not an ELF file"
	fi
	if [ "$6" = 1 ]; then machine=$((${19} + 256 * ${20})); else machine=$((${19} * 256 + ${20})); fi
	[ "$5 $6 $machine" = "$want" ] ||
		die "$binary (ELF class, byte order, machine: $5 $6 $machine) is not a $target binary ($want)"
}

if [ -z "$binary" ]; then
	# cross/build.sh prints its log to stdout: keep ours for the .ipk's path.
	"$root/cross/build.sh" "$target" >&2
	binary="$root/target/cross/$target/release/trackseed"
fi
[ -f "$binary" ] || die "no binary at $binary"
[ "$check" = 0 ] || check_elf "$binary"

field() { # Makefile variable $1 of openwrt/Makefile
	sed -n "s/^$1:=//p" "$root/openwrt/Makefile" | head -n 1
}
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)
[ -n "$version" ] || die "no version in Cargo.toml"
release=$(field PKG_RELEASE)
# OpenWrt 24.10 writes PKG_VERSION-rPKG_RELEASE, the form apk also uses.
full_version="$version-r${release:-1}"
license=$(field PKG_LICENSE)
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}
case "$epoch" in "" | *[!0-9]*) die "SOURCE_DATE_EPOCH '$epoch' is not a number of seconds" ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/trackseed-ipk.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
data="$work/data"
control="$work/control"
pkg="$work/pkg"
mkdir -p "$data/usr/bin" "$data/etc/init.d" "$data/etc/config" "$data/lib/upgrade/keep.d" \
	"$control" "$pkg"

# What Package/trackseed/install in openwrt/Makefile installs.
cp "$binary" "$data/usr/bin/trackseed"
cp "$root/openwrt/files/trackseed.init" "$data/etc/init.d/trackseed"
cp "$root/openwrt/files/trackseed.config" "$data/etc/config/trackseed"
chmod 0755 "$data/usr/bin/trackseed" "$data/etc/init.d/trackseed"
chmod 0644 "$data/etc/config/trackseed"
# package-pack.mk: conffiles the package does not ship are kept by sysupgrade through keep.d.
echo /etc/trackseed/ >"$data/lib/upgrade/keep.d/trackseed"
chmod 0644 "$data/lib/upgrade/keep.d/trackseed"
find "$data" -type d -exec chmod 0755 {} +

# tar_gz DIR MEMBER...: a reproducible gzip'd GNU tar of MEMBERs of DIR, as ipkg-build makes.
tar_gz() {
	dir=$1
	shift
	(cd "$dir" && tar --format=gnu --numeric-owner --owner=0 --group=0 --sort=name \
		--mtime="@$epoch" -cf - "$@") | gzip -n
}

tar_gz "$data" . >"$pkg/data.tar.gz"
installed_size=$(gzip -dc "$pkg/data.tar.gz" | wc -c | tr -d ' ')

# The control file package-pack.mk writes (Depends: libc as for every SDK-built package;
# the static binary needs nothing, but libc is in every image and a dynamically linked
# --binary from the SDK does need it), the description from openwrt/Makefile.
description=$(sed -n '/^define Package\/trackseed\/description$/,/^endef$/p' \
	"$root/openwrt/Makefile" | sed '1d;$d;s/^[[:space:]]*//')
{
	echo "Package: trackseed"
	echo "Version: $full_version"
	echo "Depends: libc"
	echo "Source: feeds/packages/net/trackseed"
	echo "SourceName: trackseed"
	echo "License: $license"
	echo "Section: net"
	echo "SourceDateEpoch: $epoch"
	echo "Architecture: $arch"
	echo "Installed-Size: $installed_size"
	printf '%s\n' "$description" | sed '1s/^/Description: /;2,$s/^/ /'
} >"$control/control"
echo /etc/config/trackseed >"$control/conffiles"
# postinst and prerm exactly as package-pack.mk generates them: default_postinst (base-files'
# /lib/functions.sh) enables /etc/init.d/trackseed and starts it on a running system (it does
# nothing while `option enabled` is 0); default_prerm stops and disables it.
cat >"$control/postinst" <<'EOF'
#!/bin/sh
[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
default_postinst $0 $@
EOF
cat >"$control/prerm" <<'EOF'
#!/bin/sh
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
default_prerm $0 $@
EOF
chmod 0644 "$control/control" "$control/conffiles"
chmod 0755 "$control/postinst" "$control/prerm"
tar_gz "$control" . >"$pkg/control.tar.gz"

echo 2.0 >"$pkg/debian-binary"
chmod 0644 "$pkg/debian-binary" "$pkg/data.tar.gz" "$pkg/control.tar.gz"

mkdir -p "$out"
ipk="$out/trackseed_${full_version}_$arch.ipk"
tar_gz "$pkg" ./debian-binary ./data.tar.gz ./control.tar.gz >"$ipk.tmp"
mv -f "$ipk.tmp" "$ipk"
echo "openwrt/build-ipk: $target binary packed for $arch ($installed_size bytes installed)" >&2
echo "$ipk"

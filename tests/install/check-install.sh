#!/bin/sh
# SPDX-License-Identifier: MIT
# What `meson install` puts in place, checked in a scratch DESTDIR as a
# packager would: the library, header and pkg-config file (an example
# program builds against them alone and runs), gqd and gqctl, every man
# page, the example configuration, the systemd unit (which
# systemd-analyze accepts) and the Grafana dashboard.
# Usage: check-install.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1
src=$2
dest=$(mktemp -d "${TMPDIR:-/tmp}/gq-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

DESTDIR=$dest meson install -C "$build" --no-rebuild --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
root=$dest$prefix

for f in include/goqueue.h include/goqueue-version.h sbin/gqd bin/gqctl \
	share/man/man3/goqueue.3 share/man/man3/gq_node_open.3 \
	share/man/man3/gq_node_close.3 share/man/man8/gqd.8 \
	share/man/man5/gqd.conf.5 share/man/man1/gqctl.1 \
	lib/systemd/system/gqd.service share/goqueue/grafana/goqueue.json; do
	[ -e "$root/$f" ] || fail "$f not installed"
done
conf=$(find "$dest" -path '*/gqd/gqd.conf' | head -n 1)
[ -n "$conf" ] || fail "gqd.conf not installed"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$conf" ||
	fail "gqd.conf is not JSON"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["panels"]' \
	"$root/share/goqueue/grafana/goqueue.json" ||
	fail "the dashboard has no panels"
pc=$(find "$dest" -name goqueue.pc | head -n 1)
[ -n "$pc" ] || fail "goqueue.pc not installed"
libdir=$(dirname "$(dirname "$pc")")
[ -e "$libdir/libgoqueue.so" ] || fail "libgoqueue.so not in $libdir"

# Every page of the source tree is installed.
for page in "$src"/man/*.[1358]; do
	name=$(basename "$page")
	sec=${name##*.}
	[ -e "$root/share/man/man$sec/$name" ] || fail "man page $name missing"
done

# An application builds with pkg-config alone and runs.
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$dest"
cflags=$(pkg-config --cflags goqueue)
libs=$(pkg-config --libs goqueue)
cc -o "$dest/produce" "$src/examples/produce.c" $cflags $libs ||
	fail "examples/produce.c does not build against the installed tree"
LD_LIBRARY_PATH=$libdir "$dest/produce" "$dest/data" 3 >/dev/null ||
	fail "the example built against the installed tree does not run"
LD_LIBRARY_PATH=$libdir "$root/sbin/gqd" --version >/dev/null ||
	fail "the installed gqd does not run"
LD_LIBRARY_PATH=$libdir "$root/bin/gqctl" --version >/dev/null ||
	fail "the installed gqctl does not run"

# The unit parses and every directive is known to this systemd (its
# commands point into the scratch tree, so check a copy whose commands
# exist).
if command -v systemd-analyze >/dev/null 2>&1; then
	grep -q "^ExecStart=$prefix/sbin/gqd -config=" \
		"$root/lib/systemd/system/gqd.service" ||
		fail "the unit does not start the installed gqd"
	sed -e 's|^ExecStart=.*|ExecStart=/bin/true|' \
		-e 's|^ExecReload=.*|ExecReload=/bin/true|' \
		"$root/lib/systemd/system/gqd.service" >"$dest/gqd.service"
	out=$(systemd-analyze --man=no verify "$dest/gqd.service" 2>&1) ||
		fail "systemd-analyze verify: $out"
fi
echo "install: ok"

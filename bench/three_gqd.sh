#!/bin/sh
# SPDX-License-Identifier: MIT
# Start three gqd processes on loopback as one cluster, for the benchmarks
# (README, Performance): Kafka ports 29091-29093, admin ports 29641-29643.
#
#   bench/three_gqd.sh start [GQD [DIR]]   # default build/frontend/gqd/gqd, /tmp/gq3
#   bench/three_gqd.sh stop [DIR]
#
# GQ_* variables in the environment reach the daemons, e.g.
# GQ_RAFT_FSYNC=false bench/three_gqd.sh start.
set -eu
cmd=${1:-start}
if [ "$cmd" = stop ]; then
	dir=${2:-/tmp/gq3}
	for i in 1 2 3; do
		[ -f "$dir/pid$i" ] && kill "$(cat "$dir/pid$i")" 2>/dev/null || true
	done
	exit 0
fi
gqd=${2:-build/frontend/gqd/gqd}
dir=${3:-/tmp/gq3}
rm -rf "$dir"
mkdir -p "$dir"
peers=1@127.0.0.1:27101,2@127.0.0.1:27102,3@127.0.0.1:27103
for i in 1 2 3; do
	"$gqd" -data-dir="$dir/n$i" -broker-id=$i \
		-raft-addr=127.0.0.1:2710$i -client-addr=127.0.0.1:2909$i \
		-admin-addr=127.0.0.1:2964$i -initial-cluster=$peers \
		>"$dir/log$i" 2>&1 &
	echo $! >"$dir/pid$i"
done
for i in 1 2 3; do
	n=0
	until curl -sf "127.0.0.1:2964$i/readyz" >/dev/null; do
		n=$((n + 1))
		if [ $n -gt 300 ]; then
			echo "gqd $i not ready; see $dir/log$i" >&2
			exit 1
		fi
		sleep 0.2
	done
done
echo "three gqd ready: 127.0.0.1:29091,127.0.0.1:29092,127.0.0.1:29093"

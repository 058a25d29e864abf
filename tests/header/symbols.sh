#!/bin/sh
# The shared library exports exactly the symbols listed in lib/goqueue.sym
# (and the header declares exactly those): nothing internal leaks.
lib=$1
sym=$2
header=$3
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' |
	sed 's/@.*//' | sort)
listed=$(grep -E '^\s+gq_[a-z0-9_]+;' "$sym" | tr -d ' \t;' | sort)
declared=$(tr '\n' ' ' <"$header" | grep -oE 'GQ_API [^;(]*\(' |
	grep -oE 'gq_[a-z0-9_]+ *\($' | tr -d ' (' | sort)
status=0
if [ "$exported" != "$listed" ]; then
	echo "exported symbols differ from $sym:"
	printf '%s\n' "$exported" >/tmp/gq_exported.$$
	printf '%s\n' "$listed" | diff /tmp/gq_exported.$$ - 
	rm -f /tmp/gq_exported.$$
	status=1
fi
if [ "$declared" != "$listed" ]; then
	echo "GQ_API declarations differ from $sym:"
	printf '%s\n' "$declared" >/tmp/gq_declared.$$
	printf '%s\n' "$listed" | diff /tmp/gq_declared.$$ -
	rm -f /tmp/gq_declared.$$
	status=1
fi
[ $status = 0 ] && echo "$(printf '%s\n' "$listed" | wc -l) symbols match"
exit $status

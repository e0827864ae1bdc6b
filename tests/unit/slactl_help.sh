#!/bin/sh
# slactl_help.sh SLACTL - every command slactl lists has its own help naming
# it; every protocol verb plus `watch`; an unknown command exits 2.
S=$1
"$S" --help >/dev/null || exit 1
"$S" --version >/dev/null || exit 1
n=0
for c in $("$S" --help | sed -n "s/^  \([a-z][a-z-]*\)  .*/\1/p"); do
	"$S" "$c" --help | grep -q "^Usage: slactl .*$c" || { echo "no help: $c"; exit 1; }
	n=$((n + 1))
done
verbs=$(grep -c '^### [A-Z_]*$' "$(dirname "$0")/../../proto/PROTOCOL.md")
# PROTOCOL.md's verb headings also name the two push events.
want=$((verbs - 2 + 1))
[ "$n" -eq "$want" ] || { echo "slactl lists $n commands, expected $want"; exit 1; }
"$S" no-such-command 2>/dev/null
[ $? -eq 2 ] || { echo "unknown command did not exit 2"; exit 1; }
echo "slactl help: $n commands described"

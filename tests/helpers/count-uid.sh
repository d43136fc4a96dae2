#!/bin/sh
# count-uid.sh UID: prints how many live (not zombie) processes have UID as
# their real or saved uid.
n=0
for s in /proc/[0-9]*/status; do
	awk -v u="$1" '/^State:.*Z/ { z = 1 } /^Uid:/ && ($2 == u || $4 == u) && !z { found = 1 } END { exit !found }' "$s" 2>/dev/null && n=$((n + 1))
done
echo "$n"

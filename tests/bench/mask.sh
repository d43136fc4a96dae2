#!/bin/sh
# The secret masker's cost, side by side with two baselines: memcpy of the
# same bytes into the same sink (the floor) and a naive masker that
# searches each needle with memmem (what a simple masker does).  Then the
# hard case for a sampled filter (secrets made of common words, over text
# of the same words), the cost of registering 10,000 secrets one at a
# time while 50 streams run, and peak memory for growing amounts of input.
#
#   tests/bench/mask.sh [BUILDDIR [GIB]]    (needs make, cc, GNU time)
#
# BUILDDIR is a configured build tree (default: the current directory);
# GIB is how much text each throughput run masks (default 1).
set -eu
build=${1:-.}
gib=${2:-1}
make -C "$build" tests/bench/maskbench >/dev/null
bench=$build/tests/bench/maskbench

echo "== throughput: $gib GiB of log-like text per run, medians of 5 =="
"$bench" throughput "$gib" 5

echo
echo "== the same with the text in the caches, as a pipe's read leaves it =="
MASKBENCH_TEXT_MIB=2 "$bench" throughput "$gib" 5

echo
echo "== the hard case: secrets of common words, text of the same words =="
"$bench" words 1000 "$gib" 5

echo
echo "== registrations: 10,000 secrets, 50 streams rescanned after each =="
"$bench" registrations 10000 50

echo
echo "== memory: 1,000 secrets and their forms, growing input =="
for g in 0.25 1 4; do
	printf '%s GiB: ' "$g"
	/usr/bin/time -f 'GNU time: peak RSS %M KiB' "$bench" stream 1000 1 "$g" 2>&1 |
		tr '\n' ' '
	echo
done

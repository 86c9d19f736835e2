#!/bin/bash
# smoke.sh - every benchmark in its shortest form, for CI: asserts that no
# call fails and no inquiry errs; the numbers it prints mean nothing.
set -eu
cd "$(dirname "$0")/.."
SMOKE=1 bash bench/compare.sh
bash bench/memory.sh 500 250
RATE=250 bash bench/inquiry.sh 500 2 2
SMOKE=1 bash bench/cluster.sh
SMOKE=1 bash bench/ceiling.sh
SMOKE=1 bash bench/latency.sh
echo "PASS: bench smoke"

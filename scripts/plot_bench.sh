#!/usr/bin/env bash
# Charts ops/s against threads for mantis and its peers from a mantis-bench CSV (--csv FILE).
# Usage: scripts/plot_bench.sh results.csv [docs/bench_threads.svg]
# Needs gnuplot (Debian: gnuplot-nox). One panel per workload that ran at several thread counts.
set -euo pipefail

csv=${1:?usage: plot_bench.sh results.csv [out.svg]}
out=${2:-docs/bench_threads.svg}
command -v gnuplot >/dev/null || { echo "plot_bench.sh: gnuplot not found (sudo apt-get install gnuplot-nox)" >&2; exit 1; }

workloads="seq_write seq_read rand_insert rand_read rand_write high_throughput ycsb_a ycsb_b ycsb_c ycsb_e"
impls="mantis stdmap cds"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One "threads ops_per_sec" file per workload and implementation (CSV columns: impl,workload,threads,..,ops_per_sec).
for w in $workloads; do
  for i in $impls; do
    awk -F, -v w="$w" -v i="$i" 'NR > 1 && $1 == i && $2 == w { print $3, $6 }' "$csv" | sort -n > "$work/$w.$i"
  done
done

{
  echo 'set terminal svg size 1200,900 dynamic font "sans,11" background "white"'
  echo "set output '$out'"
  echo 'set multiplot layout 3,3 title "mantis-bench: ops/s against threads (same run, same keys)"'
  echo 'set termoption noenhanced'
  echo 'set logscale x 2; set xtics (1, 2, 4, 8, 16, 40); set xrange [0.8:50]'
  echo 'set format y "%.1s%c"; set yrange [0:*]; set grid; set key top left font ",9"'
  echo 'set xlabel "threads" offset 0,0.5; set ylabel "ops/s"'
  for w in $workloads; do
    plot=""
    for i in $impls; do
      [ -s "$work/$w.$i" ] || continue
      plot+="${plot:+, }'$work/$w.$i' using 1:2 with linespoints lw 2 pt 7 title '$i'"
    done
    echo "set title '$w'"
    if [ -n "$plot" ]; then echo "plot $plot"; else echo "plot NaN notitle"; fi
  done
  echo 'unset multiplot'
} | gnuplot

echo "wrote $out"

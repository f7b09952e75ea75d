set terminal pngcairo size 1200,600 font ",10"
set output "/tmp/run5c/latency.png"
set title "latency, medians of 5 round(s) — 2026-12-07, 2 vCPUs AMD EPYC"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [0.1:*]
set ylabel "microseconds (log scale)"
set grid ytics mytics
set key top left
set xtics rotate by -25 noenhanced
plot "/tmp/run5c/latency.dat" using 2:xtic(1) title "weft" lc rgb "#1b9e77",      "" using 3 title "tokio 1.24" lc rgb "#d95f02",      "" using 4 title "asio 1.74" lc rgb "#7570b3"

# SPDX-License-Identifier: LGPL-2.1-or-later
# throughput.gp - MB/s vs value size from bench/run.sh's CSV, one submitting
# thread: raw io_uring loop, lib copy (misaligned buffers), lib aligned (plain
# addresses), lib arena path (and fio), SET/write
# left, GET/read right, tmpfs solid, disk file dashed.
#   gnuplot -e "csv='results.csv'; png='throughput.png'" bench/throughput.gp
set terminal pngcairo size 1100,450 font ",9"
set output png
set datafile separator ","
set termoption noenhanced
set logscale x 2
set xlabel "value size (KiB)"
set ylabel "MB/s"
set key top left
set grid
sel(fs, ph) = sprintf("< awk -F, '$1==\"%s\" && $3==1 && $5==\"%s\" {print $2/1024 \",\" $6}' %s | sort -n", fs, ph, csv)
set multiplot layout 1,2
set title "SET / write (1 thread)"
plot sel("tmpfs", "raw write") w lp lw 2 lc 1 t "raw io_uring (tmpfs)", \
     sel("tmpfs", "lib set") w lp lw 2 lc 2 t "lib copy (tmpfs)", \
     sel("tmpfs", "align set") w lp lw 2 lc 6 t "lib aligned (tmpfs)", \
     sel("tmpfs", "arena set") w lp lw 2 lc 3 t "lib arena (tmpfs)", \
     sel("tmpfs", "fio write") w lp lw 1 lc 4 t "fio (tmpfs)", \
     sel("disk", "raw write") w lp dt 2 lc 1 t "raw (disk)", \
     sel("disk", "lib set") w lp dt 2 lc 2 t "lib copy (disk)", \
     sel("disk", "arena set") w lp dt 2 lc 3 t "lib arena (disk)"
set title "GET / read (1 thread)"
plot sel("tmpfs", "raw read") w lp lw 2 lc 1 t "raw io_uring (tmpfs)", \
     sel("tmpfs", "lib get") w lp lw 2 lc 2 t "lib copy (tmpfs)", \
     sel("tmpfs", "align get") w lp lw 2 lc 6 t "lib aligned (tmpfs)", \
     sel("tmpfs", "arena get") w lp lw 2 lc 3 t "lib arena (tmpfs)", \
     sel("tmpfs", "fio read") w lp lw 1 lc 4 t "fio (tmpfs)", \
     sel("disk", "raw read") w lp dt 2 lc 1 t "raw (disk)", \
     sel("disk", "lib get") w lp dt 2 lc 2 t "lib copy (disk)", \
     sel("disk", "arena get") w lp dt 2 lc 3 t "lib arena (disk)"
unset multiplot

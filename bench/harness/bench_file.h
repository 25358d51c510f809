/* bench_file.h - `edgegrid bench --file DIR`: edgegrid on page-cached files
 * against the page-cache roof of the same file in the same run.
 *
 * Two float32 .npy files of the same bytes are written in DIR: one in 64 MiB
 * writes (the page cache keeps it in large folios) and one in 4 KiB writes
 * (small folios, as stdio or cp leave a file).  For each, rounds of: the
 * native probe (every core; pread into a cache-sized buffer per thread,
 * 256 KiB and 1 MiB, and mmap with MADV_POPULATE_READ; the best of those is
 * the round's roof), then whole-process `edgegrid reduce --ops sum` and
 * `edgegrid reduce` (default ops) of that file.  Each edgegrid reading is
 * divided by the roof of its own round and the median of those per-pair
 * ratios is reported, so a roof that moves within the run (shared boxes)
 * moves both sides of a ratio (bench/README.md, "Files" and "Noise"). */
#ifndef EG_HOST_BENCH_FILE_H
#define EG_HOST_BENCH_FILE_H

#include <stdint.h>
#include <stdio.h>

#define BENCH_FILE_MAX_ROUNDS 64

/* The figures of one file.  GB/s are medians over the rounds; ratios are
 * medians of the per-round ratios, with their smallest and largest. */
typedef struct bench_file_row {
    const char *kind;          /* "64 MiB writes", "4 KiB writes" */
    double pread256_gbps, pread1m_gbps, mmap_gbps, roof_gbps;
    double sum_gbps, fused_gbps;         /* whole process, wall time */
    double sum_inproc_gbps, fused_inproc_gbps; /* the JSON's own figure */
    double sum_ratio, sum_ratio_lo, sum_ratio_hi;
    double fused_ratio, fused_ratio_lo, fused_ratio_hi;
    unsigned rounds;
} bench_file_row;

typedef struct bench_file_report {
    char cpu[128];
    unsigned threads;
    uint64_t bytes;             /* data bytes per file */
    const char *ingest;         /* $EDGEGRID_INGEST as the reduces saw it */
    bench_file_row rows[2];
} bench_file_report;

/* Writes the two files under dir (removed again at the end), warms them
 * into the page cache and measures `rounds` rounds of each.  `self` is the
 * edgegrid program to run.  Returns 0, or 1 after one error line on
 * stderr. */
int bench_file_run(const char *dir, uint64_t bytes, unsigned rounds,
                   const char *self, int verbose, bench_file_report *r);

void bench_file_table(FILE *out, const bench_file_report *r);
void bench_file_json(FILE *out, const bench_file_report *r);

#endif

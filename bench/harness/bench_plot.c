/* bench_plot.c - writes the sweep as a gnuplot data file and script in a
 * private temporary folder, runs gnuplot on them and renames the PNG into
 * place, so a failed plot never leaves a half-drawn file behind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_plot.h"
#include "bench_spawn.h"

int bench_plot_available(void)
{
    return bench_have_program("gnuplot");
}

/* gnuplot's single-quoted strings escape a quote by doubling it. */
static void gp_string(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s != '\0'; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

static void gp_value(FILE *f, const bench_figure *fig)
{
    if (fig->have)
        fprintf(f, " %.6g", fig->gbps);
    else
        fputs(" ?", f);
}

static int write_data(const char *path, const bench_report *r)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return -1;
    fputs("# bytes roof eg_sum eg_fused numpy_sum numpy_fused blas_asum\n", f);
    for (size_t i = 0; i < r->nsweep; i++) {
        const bench_sweep_point *p = &r->sweep[i];
        fprintf(f, "%llu", (unsigned long long)p->bytes);
        gp_value(f, &p->roof);
        gp_value(f, &p->eg_sum);
        gp_value(f, &p->eg_fused);
        gp_value(f, &p->numpy_sum);
        gp_value(f, &p->numpy_fused);
        gp_value(f, &p->blas_asum);
        fputc('\n', f);
    }
    return fclose(f) == 0 ? 0 : -1;
}

static void size_label(char *buf, size_t len, unsigned long long b)
{
    if (b >= (1ull << 30))
        snprintf(buf, len, "%lluG", b >> 30);
    else if (b >= (1ull << 20))
        snprintf(buf, len, "%lluM", b >> 20);
    else
        snprintf(buf, len, "%lluK", b >> 10);
}

static int write_script(const char *path, const char *data, const char *png,
                        const bench_report *r)
{
    FILE *f = fopen(path, "w");
    char title[512], label[16];

    if (f == NULL)
        return -1;
    fputs("set terminal pngcairo size 1100,720 noenhanced font ',11'\n", f);
    fputs("set output ", f);
    gp_string(f, png);
    snprintf(title, sizeof title,
             "edgegrid bench, %s, %s (%u cores); edgegrid on devices %s",
             eg_dtype_numpy_name(r->dtype), r->cpu, r->cores, r->sweep_spec);
    fputs("\nset title ", f);
    gp_string(f, title);
    /* Log scales: sizes step by x4, and GB/s spans cache speeds down to
     * launch-bound small inputs. */
    fprintf(f, "\nset logscale xy\nset xrange [%g:%g]\n",
            (double)r->sweep[0].bytes / 1.5,
            (double)r->sweep[r->nsweep - 1].bytes * 1.5);
    fputs("set xlabel 'input size (bytes, in memory)'\n"
          "set ylabel 'GB/s (median)'\nset grid\n"
          "set key outside below center horizontal Left reverse width 3\n"
          "set datafile missing '?'\n"
          "set xtics (",
          f);
    for (size_t i = 0; i < r->nsweep; i++) {
        size_label(label, sizeof label, (unsigned long long)r->sweep[i].bytes);
        fprintf(f, "%s'%s' %llu", i ? ", " : "", label,
                (unsigned long long)r->sweep[i].bytes);
    }
    fputs(")\nplot ", f);
    static const struct {
        const char *title, *style;
    } series[] = {
        {"roof (native SIMD read)", "lw 2 dt 2 lc rgb 'black'"},
        {"edgegrid sum", "lw 2 lc rgb '#1a9850'"},
        {"edgegrid fused default set", "lw 2 lc rgb '#2166ac'"},
        {"numpy sum", "lw 2 lc rgb '#f46d43'"},
        {"numpy sum+mean+min+max+std", "lw 2 lc rgb '#a50026'"},
        {"OpenBLAS ?asum", "lw 2 lc rgb '#8073ac'"},
    };
    for (int s = 0; s < 6; s++) {
        fputs(s ? ", \\\n     " : "", f);
        gp_string(f, data);
        fprintf(f, " using 1:%d with linespoints %s title ", s + 2,
                series[s].style);
        gp_string(f, series[s].title);
    }
    fputc('\n', f);
    return fclose(f) == 0 ? 0 : -1;
}

int bench_plot_draw(const bench_report *r, const char *png, char *err,
                    size_t len)
{
    char dir[] = "/tmp/edgegrid-plot-XXXXXX";
    char data[64], script[64], *tmp_png = NULL;
    char *out = NULL;
    int rc = -1;

    if (r->nsweep == 0) {
        snprintf(err, len, "--plot: no sizes to plot (--max-size below 4 KiB)");
        return -1;
    }
    if (mkdtemp(dir) == NULL) {
        snprintf(err, len, "--plot: cannot create a folder in /tmp: %s",
                 strerror(errno));
        return -1;
    }
    snprintf(data, sizeof data, "%s/sweep.dat", dir);
    snprintf(script, sizeof script, "%s/sweep.gp", dir);
    /* Drawn beside the target, so the final rename stays on one file
     * system. */
    size_t n = strlen(png) + 32;
    if ((tmp_png = malloc(n)) == NULL) {
        snprintf(err, len, "--plot: out of memory");
        goto out;
    }
    snprintf(tmp_png, n, "%s.tmp-%ld", png, (long)getpid());
    if (write_data(data, r) != 0 ||
        write_script(script, data, tmp_png, r) != 0) {
        snprintf(err, len, "--plot: cannot write in %s: %s", dir,
                 strerror(errno));
        goto out;
    }
    char *argv[] = {(char *)"gnuplot", script, NULL};
    int st = bench_spawn(argv, &out);
    if (st != 0) {
        snprintf(err, len, "--plot: gnuplot failed (%s %d) drawing %s",
                 st < 0 ? "error" : "exit status", st < 0 ? errno : st, png);
        goto out;
    }
    if (rename(tmp_png, png) != 0) {
        snprintf(err, len, "--plot: cannot write %s: %s", png,
                 strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (tmp_png != NULL)
        remove(tmp_png);
    free(tmp_png);
    free(out);
    remove(data);
    remove(script);
    rmdir(dir);
    return rc;
}

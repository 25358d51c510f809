/* test_manifest.c - the shard manifest: names, optional counts, comments;
 * and the refusals that name the file and line. */
#include <criterion/criterion.h>
#include <string.h>

#include "manifest.h"

static eg_status parse(eg_manifest *m, const char *text, eg_error *err)
{
    return eg_manifest_parse(m, text, strlen(text), "m.txt", err);
}

Test(manifest, names_counts_comments_and_blank_lines)
{
    eg_manifest m;
    eg_error err = {0};
    const char *text = "# shards of the week\n"
                       "site-a/mon.npy 1048576\n"
                       "\n"
                       "  site-b/mon.npy\t  # no count\r\n"
                       "c 0";
    cr_assert_eq(parse(&m, text, &err), EG_OK, "%s", err.msg);
    cr_assert_eq(m.n, 3);
    cr_assert_str_eq(m.names[0], "site-a/mon.npy");
    cr_assert_eq(m.counts[0], 1048576);
    cr_assert_str_eq(m.names[1], "site-b/mon.npy");
    cr_assert_eq(m.counts[1], EG_SHARD_COUNT_UNKNOWN);
    cr_assert_eq(m.counts[2], 0, "an empty shard is a shard");
    eg_manifest_free(&m);
    eg_manifest_free(&m);  /* harmless twice */
}

static void refused(const char *text, const char *want)
{
    eg_manifest m;
    eg_error err = {0};
    cr_assert_eq(parse(&m, text, &err), EG_EINPUT, "accepted: %s", text);
    cr_assert(strstr(err.msg, want) != NULL, "'%s' lacks '%s'", err.msg,
              want);
    cr_assert(strncmp(err.msg, "m.txt", 5) == 0, "'%s'", err.msg);
}

Test(manifest, refusals_name_the_line)
{
    refused("a\nb\na\n", "m.txt:3: shard 'a' is listed twice");
    refused("ok\n../etc/passwd\n", "m.txt:2: shard name '../etc/passwd'");
    refused("/abs/path\n", "m.txt:1");
    refused("a -5\n", "m.txt:1: count '-5'");
    refused("a 12x\n", "count '12x'");
    refused("a 99999999999999999999999\n", "count");
    refused("a 1 2\n", "expected 'NAME [COUNT]'");
    refused("# nothing\n\n", "lists no shards");
    refused("", "lists no shards");
}

Test(manifest, binary_input_is_refused)
{
    eg_manifest m;
    eg_error err = {0};
    cr_assert_eq(eg_manifest_parse(&m, "a\0b", 3, "m.bin", &err), EG_EINPUT);
    cr_assert(strstr(err.msg, "not a text file") != NULL);
}

Test(manifest, missing_file)
{
    eg_manifest m;
    eg_error err = {0};
    cr_assert_eq(eg_manifest_load(&m, "/nonexistent/manifest.txt", &err),
                 EG_ENOENT);
    cr_assert(strstr(err.msg, "/nonexistent/manifest.txt") != NULL);
}

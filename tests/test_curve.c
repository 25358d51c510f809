/* test_curve.c - grid security's pieces on their own: the libzmq version
 * gate, key files (parsing, keygen, the secret's permissions), the
 * plain-TCP rule, the allow-list, the ledger's lease-holder check and the
 * repeat-offender table. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "curve.h"
#include "ledger.h"
#include "strikes.h"
#include "zap.h"

static const char *KEY = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

static void temp_dir(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/eg-test-curve.XXXXXX");
    cr_assert_not_null(mkdtemp(buf));
}

static void write_file(const char *path, const char *text, int mode)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
    chmod(path, (mode_t)mode);
}

static void remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(curve, version_gate_is_4_3_3)
{
    cr_assert(eg_curve_version_ok(4, 3, 3));
    cr_assert(eg_curve_version_ok(4, 3, 4));
    cr_assert(eg_curve_version_ok(4, 4, 0));
    cr_assert(eg_curve_version_ok(5, 0, 0));
    cr_assert_not(eg_curve_version_ok(4, 3, 2)); /* CVE-2020-15166 */
    cr_assert_not(eg_curve_version_ok(4, 3, 1)); /* CVE-2019-13132 */
    cr_assert_not(eg_curve_version_ok(4, 2, 9));
    cr_assert_not(eg_curve_version_ok(3, 9, 9));
    /* This box's libzmq passes, or the CURVE tests could not run. */
    eg_error err;
    cr_assert_eq(eg_curve_available(&err), EG_OK, "%s", err.msg);
}

Test(curve, key_text_is_one_z85_key)
{
    eg_curve_z85 k;
    char text[200];
    snprintf(text, sizeof text, "%s\n", KEY);
    cr_assert_null(eg_curve_parse(text, strlen(text), k));
    cr_assert_str_eq(k, KEY);
    snprintf(text, sizeof text, "# a comment\n\n  %s \r\n# another\n", KEY);
    cr_assert_null(eg_curve_parse(text, strlen(text), k));
    cr_assert_str_eq(k, KEY);
    snprintf(text, sizeof text, "%s\n%s\n", KEY, KEY);
    cr_assert_str_eq(eg_curve_parse(text, strlen(text), k),
                     "more than one key");
    cr_assert_not_null(eg_curve_parse(KEY, 39, k));
    cr_assert_not_null(eg_curve_parse("", 0, k));
    cr_assert_not_null(eg_curve_parse("# only\n", 7, k));
    snprintf(text, sizeof text, "%s", KEY);
    text[5] = '"'; /* not in the alphabet */
    cr_assert_not_null(eg_curve_parse(text, strlen(text), k));
    snprintf(text, sizeof text, "%s", KEY);
    text[10] = '\0'; /* a NUL inside */
    cr_assert_not_null(eg_curve_parse(text, 40, k));
}

Test(curve, keygen_writes_a_matching_pair_and_never_overwrites)
{
    char dir[64], name[128], path[160];
    temp_dir(dir, sizeof dir);
    snprintf(name, sizeof name, "%s/k", dir);
    eg_curve_keys pair;
    eg_error err;
    cr_assert_eq(eg_curve_keygen(name, &pair, &err), EG_OK, "%s", err.msg);
    eg_curve_z85 pub, sec, derived;
    snprintf(path, sizeof path, "%s.pub", name);
    cr_assert_eq(eg_curve_read_public(path, pub, &err), EG_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s.secret", name);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(eg_curve_read_secret(path, sec, derived, &err), EG_OK, "%s",
                 err.msg);
    cr_assert_str_eq(pub, pair.public_key);
    cr_assert_str_eq(sec, pair.secret_key);
    cr_assert_str_eq(derived, pub);
    cr_assert_eq(eg_curve_keygen(name, NULL, &err), EG_EUSAGE);
    cr_assert(strstr(err.msg, "exists"), "%s", err.msg);
    /* Still the first pair. */
    cr_assert_eq(eg_curve_read_public(path, sec, &err), EG_OK);
    cr_assert_str_eq(sec, pair.secret_key);
    remove_tree(dir);
}

Test(curve, secret_readable_by_others_is_refused)
{
    char dir[64], path[128];
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/s.secret", dir);
    char text[64];
    snprintf(text, sizeof text, "%s\n", KEY);
    eg_curve_z85 sec, pub;
    eg_error err;
    static const int bad[] = {0640, 0604, 0644, 0660, 0620, 0602, 0610};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unlink(path);
        write_file(path, text, bad[i]);
        cr_assert_eq(eg_curve_read_secret(path, sec, pub, &err), EG_EUSAGE,
                     "mode %o", bad[i]);
        cr_assert(strstr(err.msg, "chmod 600"), "%s", err.msg);
    }
    chmod(path, 0600);
    cr_assert_eq(eg_curve_read_secret(path, sec, pub, &err), EG_OK, "%s",
                 err.msg);
    chmod(path, 0400);
    cr_assert_eq(eg_curve_read_secret(path, sec, pub, &err), EG_OK, "%s",
                 err.msg);
    cr_assert_eq(eg_curve_read_secret(dir, sec, pub, &err), EG_EINPUT);
    snprintf(path, sizeof path, "%s/none", dir);
    cr_assert_eq(eg_curve_read_secret(path, sec, pub, &err), EG_ENOENT);
    remove_tree(dir);
}

Test(curve, plain_tcp_only_on_loopback)
{
    static const char *local[] = {
        "tcp://127.0.0.1:5555", "tcp://127.255.0.9:1",
        "tcp://localhost:80",   "tcp://[::1]:5555",
        "tcp://127.0.0.1:*",    "ipc:///tmp/eg.sock",
        "inproc://x",           "tcp://10.0.0.1:0;127.0.0.1:5555"};
    static const char *remote[] = {"tcp://0.0.0.0:5555",
                                   "tcp://*:5555",
                                   "tcp://[::]:5555",
                                   "tcp://10.1.2.3:5555",
                                   "tcp://eth0:5555",
                                   "tcp://box.local:5555",
                                   "tcp://128.0.0.1:5555",
                                   "tcp://[::2]:1",
                                   "tcp://127.0.0.1",
                                   "pgm://eth0;239.192.1.1:5555",
                                   "ws://127.0.0.1:80",
                                   "tcp://",
                                   "tcp://127.0.0.1:0;10.0.0.1:5555",
                                   "tcp://[::ffff:127.0.0.1]:1"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        cr_assert(eg_endpoint_is_local(local[i]), "%s", local[i]);
    for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++)
        cr_assert_not(eg_endpoint_is_local(remote[i]), "%s", remote[i]);
    eg_error err;
    cr_assert_eq(eg_endpoint_check_plain("tcp://0.0.0.0:1", "--tasks", 0, &err),
                 EG_EUSAGE);
    cr_assert(strstr(err.msg, "--insecure"), "%s", err.msg);
    cr_assert_eq(eg_endpoint_check_plain("tcp://0.0.0.0:1", "--tasks", 1, &err),
                 EG_OK);
    cr_assert_eq(eg_endpoint_check_plain("ws://10.0.0.1:1", "--tasks", 0, &err),
                 EG_EUSAGE);
    /* Not a transport at all: left to zmq_bind to refuse, naming it. */
    cr_assert_eq(eg_endpoint_check_plain("nonsense://x", "--tasks", 0, &err),
                 EG_OK);
    cr_assert_eq(eg_endpoint_check_plain("tcp://10.0.0.1", "--tasks", 0, &err),
                 EG_OK);
}

Test(curve, allow_list_names_keys_by_file)
{
    char dir[64], path[160], text[64];
    temp_dir(dir, sizeof dir);
    char pub[3][41], sec[41];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(zmq_curve_keypair(pub[i], sec), 0);
    static const char *files[] = {"bob.pub", "alice.pub", "carol.pub.bak",
                                  ".hidden.pub", "same-as-alice.pub"};
    static const int which[] = {1, 0, 2, 2, 0};
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        snprintf(text, sizeof text, "%s\n", pub[which[i]]);
        write_file(path, text, 0644);
    }
    eg_allow a;
    eg_allow_names names = {NULL, 0, 0};
    eg_error err;
    cr_assert_eq(eg_allow_load(&a, &names, dir, &err), EG_OK, "%s", err.msg);
    cr_assert_eq(a.nkeys, 2,
                 "the .bak, the dot file and the duplicate key "
                 "are not entries");
    uint8_t bin[32];
    zmq_z85_decode(bin, pub[0]);
    uint32_t alice = eg_allow_find(&a, bin);
    cr_assert_neq(alice, 0);
    cr_assert_str_eq(names.v[alice - 1], "alice");
    zmq_z85_decode(bin, pub[2]);
    cr_assert_eq(eg_allow_find(&a, bin), 0);
    eg_allow_free(&a);
    /* Reloaded: the same names keep their numbers. */
    cr_assert_eq(eg_allow_load(&a, &names, dir, &err), EG_OK);
    zmq_z85_decode(bin, pub[0]);
    cr_assert_eq(eg_allow_find(&a, bin), alice);
    eg_allow_free(&a);
    /* A bad key file is named. */
    snprintf(path, sizeof path, "%s/broken.pub", dir);
    write_file(path, "nonsense\n", 0644);
    cr_assert_eq(eg_allow_load(&a, &names, dir, &err), EG_EINPUT);
    cr_assert(strstr(err.msg, "broken.pub"), "%s", err.msg);
    eg_allow_names_free(&names);
    remove_tree(dir);
}

Test(curve, zap_handler_admits_listed_keys_only)
{
    char dir[64], path[160], text[64];
    temp_dir(dir, sizeof dir);
    char wpub[41], wsec[41], spub[41], ssec[41], opub[41], osec[41];
    cr_assert_eq(zmq_curve_keypair(wpub, wsec), 0);
    cr_assert_eq(zmq_curve_keypair(spub, ssec), 0);
    cr_assert_eq(zmq_curve_keypair(opub, osec), 0);
    snprintf(path, sizeof path, "%s/w1.pub", dir);
    snprintf(text, sizeof text, "%s\n", wpub);
    write_file(path, text, 0644);
    void *ctx = zmq_ctx_new();
    eg_zap *z = NULL;
    eg_error err;
    cr_assert_eq(eg_zap_open(&z, ctx, dir, &err), EG_OK, "%s", err.msg);
    void *srv = zmq_socket(ctx, ZMQ_PULL);
    int one = 1, zero = 0;
    zmq_setsockopt(srv, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(srv, ZMQ_CURVE_SECRETKEY, ssec, 40);
    zmq_setsockopt(srv, ZMQ_ZAP_DOMAIN, EG_ZAP_DOMAIN, strlen(EG_ZAP_DOMAIN));
    zmq_setsockopt(srv, ZMQ_LINGER, &zero, sizeof zero);
    /* CURVE needs a real transport: inproc has no handshake. */
    cr_assert_eq(zmq_bind(srv, "tcp://127.0.0.1:*"), 0);
    char ep[64];
    size_t eplen = sizeof ep;
    zmq_getsockopt(srv, ZMQ_LAST_ENDPOINT, ep, &eplen);
    /* Two clients: the listed key and another. */
    void *cli[2];
    const char *pubs[2] = {wpub, opub}, *secs[2] = {wsec, osec};
    for (int i = 0; i < 2; i++) {
        cli[i] = zmq_socket(ctx, ZMQ_PUSH);
        zmq_setsockopt(cli[i], ZMQ_CURVE_SERVERKEY, spub, 40);
        zmq_setsockopt(cli[i], ZMQ_CURVE_PUBLICKEY, pubs[i], 40);
        zmq_setsockopt(cli[i], ZMQ_CURVE_SECRETKEY, secs[i], 40);
        zmq_setsockopt(cli[i], ZMQ_LINGER, &zero, sizeof zero);
        cr_assert_eq(zmq_connect(cli[i], ep), 0);
        zmq_send(cli[i], i ? "stranger" : "friend", i ? 8 : 6, ZMQ_DONTWAIT);
    }
    int allowed = 0, refused = 0;
    char got[16] = "";
    const char *user = NULL;
    for (int k = 0; k < 200 && (!got[0] || allowed + refused < 2); k++) {
        eg_zap_verdict v;
        while (eg_zap_serve(z, &v)) {
            allowed += v.allowed;
            refused += !v.allowed;
            if (!v.allowed)
                cr_assert_str_eq(v.key, opub);
        }
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, srv, ZMQ_DONTWAIT) > 0 && !got[0]) {
            snprintf(got, sizeof got, "%.*s", (int)zmq_msg_size(&m),
                     (const char *)zmq_msg_data(&m));
            user = zmq_msg_gets(&m, "User-Id");
            cr_assert_not_null(user);
            cr_assert_str_eq(user, "w1");
            cr_assert_eq(eg_zap_uid(z, user), 1);
        }
        zmq_msg_close(&m);
        zmq_poll(NULL, 0, 10); /* 10 ms */
    }
    cr_assert_eq(allowed, 1);
    cr_assert_eq(refused, 1);
    cr_assert_str_eq(got, "friend");
    /* Reloaded without w1: its name is no longer an allowed identity. */
    unlink(path);
    snprintf(path, sizeof path, "%s/w2.pub", dir);
    snprintf(text, sizeof text, "%s\n", opub);
    write_file(path, text, 0644);
    cr_assert_eq(eg_zap_reload(z, &err), EG_OK, "%s", err.msg);
    cr_assert_eq(eg_zap_uid(z, "w1"), 0);
    cr_assert_eq(eg_zap_uid(z, "w2"), 2);
    cr_assert_str_eq(eg_zap_name(z, 1), "w1");
    for (int i = 0; i < 2; i++)
        zmq_close(cli[i]);
    zmq_close(srv);
    eg_zap_close(&z);
    zmq_ctx_term(ctx);
    remove_tree(dir);
}

Test(curve, only_the_lease_holder_may_deliver)
{
    eg_ledger l;
    cr_assert_eq(eg_ledger_init(&l, 3, NULL), EG_OK);
    for (uint64_t i = 0; i < 3; i++)
        eg_ledger_set_range(&l, i, i * 10, 10);
    uint64_t id;
    cr_assert(eg_ledger_take(&l, NULL, NULL, &id));
    eg_ledger_lease_uid(&l, id, 100, 7, 0.0);
    cr_assert_eq(eg_ledger_result_from(&l, 0, 7), EG_FROM_HOLDER);
    cr_assert_eq(eg_ledger_result_from(&l, 0, 8), EG_FROM_STRANGER);
    cr_assert_eq(eg_ledger_result_from(&l, 0, 0), EG_FROM_STRANGER);
    cr_assert_eq(eg_ledger_result_from(&l, 1, 7), EG_FROM_STRANGER,
                 "pending: nobody holds it");
    cr_assert_eq(eg_ledger_result_from(&l, 99, 7), EG_FROM_STRANGER);
    eg_state s;
    eg_state_init(&s, EG_F64, 0);
    s.n = 10;
    cr_assert_eq(eg_ledger_complete(&l, 0, 1, &s, 1.0), EG_ACCEPTED);
    cr_assert_eq(eg_ledger_result_from(&l, 0, 7), EG_FROM_DONE_BY);
    cr_assert_eq(eg_ledger_result_from(&l, 0, 8), EG_FROM_STRANGER);
    /* A lease released (its worker lost) is held by nobody. */
    cr_assert(eg_ledger_take(&l, NULL, NULL, &id));
    eg_ledger_lease_uid(&l, id, 100, 7, 2.0);
    cr_assert_eq(eg_ledger_release_owner(&l, 100, 1, "lost", NULL, NULL),
                 EG_OK);
    cr_assert_eq(eg_ledger_result_from(&l, id, 7), EG_FROM_STRANGER);
    eg_ledger_free(&l);
}

Test(curve, repeat_offenders_are_banned_in_a_bounded_table)
{
    eg_strikes s;
    memset(&s, 0, sizeof s);
    uint8_t a[5] = {0, 1, 2, 3, 4}, b[5] = {0, 1, 2, 3, 5};
    cr_assert_not(eg_strikes_banned(&s, a, 5));
    for (int i = 1; i < EG_STRIKES_BAN; i++)
        cr_assert_not(eg_strikes_add(&s, a, 5));
    cr_assert_not(eg_strikes_banned(&s, a, 5));
    cr_assert(eg_strikes_add(&s, a, 5), "the one that bans");
    cr_assert_not(eg_strikes_add(&s, a, 5), "told once");
    cr_assert(eg_strikes_banned(&s, a, 5));
    cr_assert_not(eg_strikes_banned(&s, b, 5));
    /* A flood of other ids pushes the oldest entry out, no more. */
    for (uint32_t i = 0; i < EG_STRIKES_SLOTS; i++) {
        uint8_t id[5] = {1};
        memcpy(id + 1, &i, 4);
        eg_strikes_add(&s, id, 5);
    }
    cr_assert_eq(s.n, EG_STRIKES_SLOTS);
    cr_assert_not(eg_strikes_banned(&s, a, 5));
    cr_assert_eq(s.banned, 0);
    eg_strikes_free(&s);
}

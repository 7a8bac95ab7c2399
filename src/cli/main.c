/* main.c: the `peerdrop` command line peer (issue 4).
 *
 *   peerdrop send FILE|DIR... [--server URL]       create a room, send to each receiver
 *   peerdrop send --code FILE|DIR...               the same with a short code, one receiver
 *   peerdrop receive LINK|CODE|ROOM [--password P] [-o DIR] [--yes] [--force]
 *
 * This file: the arguments, start-up, the loop and the outcome; the parts
 * are listed in app.h (room, peer, sender, receiver, link, output).
 * Signaling goes through cli_signal (Socket.IO over WebSocket),
 * WebRTC through src/rtc, the transfer protocol through src/transfer (the
 * same bytes as the web app), files through pread/pwrite in bounded
 * chunks. Files are written only beneath the output folder, through
 * cli_outdir (no symbolic link followed, no hard link written through), and
 * peer text reaches the terminal only through cli_display_escape. Everything
 * runs on one GMainContext. Memory stays flat: the
 * sender reads 1 MiB at a time and only while the channel's buffered amount
 * is under 4 MiB (docs/protocol.md §5.4); the receiver writes each message
 * as it arrives and acknowledges only stored bytes. Received files go to
 * NAME.partial and are renamed after the digest matched (the file's
 * SHA-256, or with a peer that lists "sha256-blocks" its block digest,
 * docs/protocol.md §5.8); an existing partial file is resumed; an existing
 * file is never overwritten without --force (a free name "a (1).txt" is
 * chosen instead). */
#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/limits.h"
#include "base/log.h"
#include "cli/app.h"
#include "cli/display.h"
#include "cli/inputs.h"
#include "cli/link.h"
#include "cli/outdir.h"
#include "cli/output.h"
#include "cli/peer.h"
#include "cli/receiver.h"
#include "cli/room.h"
#include "cli/sender.h"
#include "pake/code.h"
#include "transfer/paths.h"
#include "transfer/sha256.h"

/* The first outcome wins: once a receive is done, the sender closing its
 * channel or connection (seen in the same loop iteration, before the loop
 * returns) must not turn success into a failure. Only an interrupt before
 * the end overrides. */
void cli_app_finish(cli_app *a, int code)
{
    if (a->quitting) return;
    a->quitting = true;
    if (a->exit_code == EXIT_OK || code == EXIT_INTERRUPTED) a->exit_code = code;
    g_main_loop_quit(a->loop);
}

/* The exit status of a run in which `auth_failures` peers failed
 * authentication: 6 (EXIT_AUTH) unless the run itself could not work or
 * was stopped, which says more: an interrupt (130), a usage error (1),
 * signaling (2) or a local file error (5). A possible interception is not
 * hidden behind a transfer that failed (3) or was declined (4) elsewhere,
 * nor behind the success of the other receivers (0). docs/peerdrop.1. */
static int run_outcome(int code, int auth_failures)
{
    if (auth_failures == 0) return code;
    switch (code) {
    case EXIT_INTERRUPTED:
    case EXIT_USAGE:
    case EXIT_SIGNALING:
    case EXIT_LOCAL:
        return code;
    default:
        return EXIT_AUTH;
    }
}

static void usage(FILE *f)
{
    fputs("usage: peerdrop send FILE|DIR... [--code] [--server URL] [--count N] [--json]\n"
          "                     [--quiet]\n"
          "       peerdrop send --text TEXT|- [--code] [--server URL] [--count N] [--json]\n"
          "       peerdrop receive LINK|CODE|ROOM [--password P] [--server URL] [-o DIR] [--yes]\n"
          "                       [--force] [--allow-dotfiles] [--json] [--quiet]\n"
          "       (both take --relay, --name NAME and --lanes N)\n"
          "       peerdrop --version\n"
          "\n"
          "Sends files peer to peer (WebRTC data channel) to the Peerdrop web app or another\n"
          "peerdrop. The server only relays the connection set-up; files never pass through it.\n"
          "\n"
          "send      creates a room with a random id and password, prints a link for the web app\n"
          "          (and a QR code on a terminal), and sends the files to every receiver that\n"
          "          joins. Directories are sent with their relative paths.\n"
          "send --code  prints a short code instead (7-guitar-lemon) for one receiver; after\n"
          "          3 failed attempts with a wrong code it is burnt (exit 6)\n"
          "receive   joins the room of LINK or CODE (or ROOM with --password), shows the files\n"
          "          and asks before accepting, then stores them in DIR (default: the\n"
          "          current directory).\n"
          "\n"
          "options:\n"
          "  --server URL     signaling server, http(s):// or ws(s):// (default $PEERDROP_URL or\n"
          "                   " DEFAULT_SERVER "; for receive, the link's own server)\n"
          "  --count N        send: exit after N receivers got everything (default: run until "
          "Ctrl-C)\n"
          "  --text TEXT      send: a text snippet instead of files (- reads standard input;\n"
          "                   at most 65536 bytes of UTF-8); exits once the receiver has it\n"
          "                   (--count N: N receivers); receive prints it on stdout\n"
          "  --name NAME      the name the other side shows for you (default: the host name;\n"
          "                   at most 64 bytes); the peer's name is printed (\"from NAME\")\n"
          "  --lanes N        0 to 15 extra connections to the peer that carry the data of\n"
          "                   one transfer (default 7; the web app takes up to 7): much\n"
          "                   faster on lossy links, 15 the fastest there\n"
          "  --code           send: a short code (NUMBER-WORD-WORD) instead of a link; single\n"
          "                   use, one receiver\n"
          "  --password P     receive: the room password (when ROOM is a bare id)\n"
          "  -o, --output DIR receive: where to store the files (created if needed)\n"
          "  -y, --yes        receive: accept without asking\n"
          "  --force          receive: overwrite existing files (default: pick a free name)\n"
          "  --allow-dotfiles receive: also names starting with '.' (.config/, .gitignore);\n"
          "                   by default they are left out (and said so), the rest received\n"
          "  --relay          connect only through the server's TURN relay, so that the other\n"
          "                   peer never learns your IP addresses (slower; needs TURN)\n"
          "  --json           one JSON object per line on stdout (events: room, code, joined,\n"
          "                   peer-joined, connected, authenticated, auth-failed, offer,\n"
          "                   resume, accepted, progress, file, left-out, done, declined,\n"
          "                   cancelled, error, warning, summary, peer-name, text,\n"
          "                   text-delivered, lanes, lane-refused)\n"
          "  -q, --quiet      no progress output, no summary line\n"
          "  --log-level L    debug | info | warn | error (default warn), on stderr\n"
          "  -h, --help       this help\n"
          "\n"
          "Every connection starts with a password-authenticated key exchange (CPace) that also\n"
          "binds both DTLS certificates: nothing is sent or received before it succeeded.\n"
          "Both sides then print the same verification code; compare it with the other side\n"
          "to rule out someone who knows the password too.\n"
          "\n"
          "Received files are written to NAME.partial and renamed only after their SHA-256\n"
          "digest matched. A connection lost mid-transfer is offered again by the sender and\n"
          "resumes in the same run; an interrupted receive resumes from the .partial file\n"
          "when run again (with a peer that uses block digests, from its last whole 4 MiB\n"
          "block).\n"
          "Files are written only beneath DIR: symbolic links in the way are not followed,\n"
          "a .partial file with other hard links is not reused.\n"
          "\n"
          "STUN/TURN servers come from the server: URLs from GET /config, the TURN\n"
          "credential with the room. See peerdrop(1).\n"
          "\n"
          "exit status:\n"
          "  0    success\n"
          "  1    usage error\n"
          "  2    signaling failed: server unreachable, room not found, wrong password\n"
          "  3    transfer failed: connection failed, peer error, SHA-256 mismatch;\n"
          "       send --count: a receiver could not store a file (5: we could not read one)\n"
          "  4    declined or cancelled\n"
          "  5    local file error: cannot read an input or write the output, or the sender\n"
          "       offered an unsafe name, or hidden names only\n"
          "  6    authentication with a peer failed: the connection may be intercepted, or\n"
          "       the other side used another password or code; nothing was sent to that peer\n"
          "       (also when other peers succeeded; 1, 2, 5 and 130 take precedence);\n"
          "       send --code: the code was burnt after 3 failed attempts\n"
          "  130  interrupted (SIGINT/SIGTERM)\n",
          f);
}

static gboolean on_sigint(gpointer data)
{
    cli_app *a = data;
    cli_say(a, "interrupted");
    cli_app_finish(a, EXIT_INTERRUPTED);
    return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
    cli_app a = {0};
    pd_log_set_level(PD_LOG_LEVEL_WARN);
    /* libsodium: Argon2id for the room's keys, and the PAKE */
    if (sodium_init() < 0) {
        fprintf(stderr, "peerdrop: libsodium cannot start\n");
        return EXIT_LOCAL;
    }
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("peerdrop %s\n", PEERDROP_VERSION);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "send"))
        a.sending = true;
    else if (strcmp(argv[1], "receive") && strcmp(argv[1], "recv")) {
        fprintf(stderr, "peerdrop: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *env = getenv("PEERDROP_URL");
    snprintf(a.server, sizeof a.server, "%s", env && *env ? env : DEFAULT_SERVER);
    snprintf(a.out_dir, sizeof a.out_dir, ".");
    a.out_root = -1;
    a.lanes = CLI_DEFAULT_LANES;
    bool have_server = false;
    const char *target = NULL;
    char **inputs = calloc((size_t)argc, sizeof *inputs);
    if (!inputs) return EXIT_LOCAL;
    int ninputs = 0;
    const char *text_arg = NULL, *name_arg = NULL;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        bool more = i + 1 < argc;
        if (!strcmp(o, "--server") && more) {
            snprintf(a.server, sizeof a.server, "%s", argv[++i]);
            have_server = true;
        } else if (!strcmp(o, "--password") && more) {
            if (snprintf(a.password, sizeof a.password, "%s", argv[++i]) >=
                (int)sizeof a.password) {
                fprintf(stderr, "peerdrop: the password is over %d bytes\n", PAKE_SECRET_MAX);
                free(inputs);
                return EXIT_USAGE;
            }
        } else if ((!strcmp(o, "-o") || !strcmp(o, "--output")) && more)
            snprintf(a.out_dir, sizeof a.out_dir, "%s", argv[++i]);
        else if (!strcmp(o, "--count") && more) {
            a.count = strtol(argv[++i], NULL, 10);
            a.count_given = true;
        } else if (!strcmp(o, "--text") && more && a.sending)
            text_arg = argv[++i];
        else if (!strcmp(o, "--name") && more)
            name_arg = argv[++i];
        else if (!strcmp(o, "--lanes") && more) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || n < 0 || n > (long)PD_MAX_LANES) {
                fprintf(stderr, "peerdrop: --lanes takes 0 to %u\n", PD_MAX_LANES);
                free(inputs);
                return EXIT_USAGE;
            }
            a.lanes = (unsigned)n;
        } else if (!strcmp(o, "-y") || !strcmp(o, "--yes"))
            a.yes = true;
        else if (!strcmp(o, "--force"))
            a.force = true;
        else if (!strcmp(o, "--allow-dotfiles"))
            a.allow_dotfiles = true;
        else if (!strcmp(o, "--code") && a.sending)
            a.code_mode = true;
        else if (!strcmp(o, "--relay"))
            a.relay_only = true;
        else if (!strcmp(o, "--json"))
            a.json = true;
        else if (!strcmp(o, "-q") || !strcmp(o, "--quiet"))
            a.quiet = true;
        else if (!strcmp(o, "--log-level") && more) {
            pd_log_level l;
            if (!pd_log_level_parse(argv[++i], &l)) {
                fprintf(stderr, "peerdrop: bad log level\n");
                free(inputs);
                return EXIT_USAGE;
            }
            pd_log_set_level(l);
        } else if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage(stdout);
            free(inputs);
            return EXIT_OK;
        } else if (o[0] == '-' && o[1]) {
            fprintf(stderr, "peerdrop: unknown option '%s'\n", o);
            free(inputs);
            return EXIT_USAGE;
        } else
            inputs[ninputs++] = argv[i];
    }
    a.tty = isatty(1) && !a.json;
    if (a.json) pd_log_set_json(true);
    if (cli_take_name(&a, name_arg) < 0) {
        free(inputs);
        return EXIT_USAGE;
    }
    int rc = EXIT_OK;
    if (a.sending && text_arg) {
        /* a snippet instead of files (issue 17): to one receiver unless
         * --count says more, as a snippet is usually meant for one */
        if (ninputs > 0) {
            fprintf(stderr, "peerdrop send: --text does not go with files\n");
            free(inputs);
            return EXIT_USAGE;
        }
        if (cli_take_text(&a, text_arg) < 0) {
            free(inputs);
            return EXIT_USAGE;
        }
        if (!a.count_given || a.code_mode) a.count = 1;
        if (!xfer_random_id(a.text_id) ||
            (a.code_mode ? !cli_room_code_draw(&a)
                         : (!cli_link_random_room(a.room) ||
                            !cli_link_random_password(a.password, CLI_LINK_KEY_LEN)))) {
            free(a.text);
            free(inputs);
            return EXIT_LOCAL;
        }
    } else if (a.sending) {
        if (ninputs == 0) {
            fprintf(stderr, "peerdrop send: no files given\n");
            free(inputs);
            return EXIT_USAGE;
        }
        for (int i = 0; i < ninputs; i++)
            if (cli_sender_add_path(&a, inputs[i], "", 0) < 0) {
                free(inputs);
                return EXIT_LOCAL;
            }
        if (a.nfiles == 0 || a.nfiles > XFER_MAX_FILES) {
            fprintf(stderr, "peerdrop send: %zu files (1 to %u can be sent at once)\n", a.nfiles,
                    XFER_MAX_FILES);
            free(inputs);
            return EXIT_USAGE;
        }
        char buf[128];
        const char *problem;
        if (xfer_path_manifest_check(a.entries, a.nfiles, buf, sizeof buf, &problem) != XFER_OK ||
            problem) {
            fprintf(stderr, "peerdrop send: %s\n", problem ? problem : "out of memory");
            free(inputs);
            return EXIT_USAGE;
        }
        if (xfer_path_manifest_hidden(a.entries, a.nfiles, buf, sizeof buf))
            fprintf(stderr,
                    "peerdrop send: note: some names start with '.' (hidden files); a "
                    "receiver leaves them out unless it runs with --allow-dotfiles, and the "
                    "web app leaves them out\n");
        if (a.code_mode) {
            /* one receiver, once: a code is single use (as magic-wormhole's) */
            a.count = 1;
            if (!cli_room_code_draw(&a) || !xfer_random_id(a.xfer)) {
                free(inputs);
                return EXIT_LOCAL;
            }
        } else if (!cli_link_random_room(a.room) ||
                   !cli_link_random_password(a.password, CLI_LINK_KEY_LEN) ||
                   !xfer_random_id(a.xfer)) {
            free(inputs);
            return EXIT_LOCAL;
        }
    } else if (ninputs == 1 && !strstr(inputs[0], "#room=") && code_looks_like(inputs[0])) {
        /* a short code: NUMBER-WORD-WORD, its room code-NUMBER (issue 14) */
        short_code c;
        char err[CODE_ERROR_CAP];
        if (!code_parse(inputs[0], &c, err, sizeof err)) {
            fprintf(stderr, "peerdrop receive: %s\n", err);
            free(inputs);
            return EXIT_USAGE;
        }
        if (a.password[0]) {
            fprintf(stderr, "peerdrop receive: --password does not go with a code\n");
            free(inputs);
            return EXIT_USAGE;
        }
        a.code_mode = true;
        code_format(&c, a.password);
        code_room(&c, a.room);
        a.out_root = cli_outdir_open_root(a.out_dir);
        if (a.out_root < 0) {
            fprintf(stderr, "peerdrop: %s: %s\n", a.out_dir, strerror(-a.out_root));
            free(inputs);
            return EXIT_LOCAL;
        }
    } else {
        bool damaged = false;
        if (ninputs != 1 || !(target = inputs[0]) ||
            !cli_link_parse(target, have_server ? NULL : a.server, sizeof a.server, a.room,
                            sizeof a.room, a.password, sizeof a.password, &damaged)) {
            if (damaged)
                fprintf(stderr, "peerdrop receive: %s\n", CLI_LINK_DAMAGED);
            else
                fprintf(stderr, "peerdrop receive: give one link (…#room=ID&key=PASSWORD), a "
                                "code (7-guitar-lemon) or a room id\n");
            free(inputs);
            return EXIT_USAGE;
        }
        if (!a.password[0]) {
            fprintf(stderr, "peerdrop receive: no password (use the full link or --password)\n");
            free(inputs);
            return EXIT_USAGE;
        }
        a.out_root = cli_outdir_open_root(a.out_dir);
        if (a.out_root < 0) {
            fprintf(stderr, "peerdrop: %s: %s\n", a.out_dir, strerror(-a.out_root));
            free(inputs);
            return EXIT_LOCAL;
        }
    }
    /* The server gets the admission value, never the secret (issue 14,
     * docs/authentication.md §3); once, before the loop: Argon2id takes
     * 0.1 s and 64 MiB, and every reconnection sends the same value. */
    int derived = !a.code_mode ? cli_secret_derive(a.password, a.room, a.admission, a.prs)
                  : a.sending  ? PAKE_OK /* cli_room_code_draw derived it */
                               : cli_secret_derive_prs(a.password, a.room, a.prs);
    if (derived != PAKE_OK) {
        if (derived == PAKE_E_ARG)
            fprintf(stderr, "peerdrop: the password must be 1 to %d bytes of UTF-8 text\n",
                    PAKE_SECRET_MAX);
        else
            fprintf(stderr, "peerdrop: cannot derive the room's keys: %s\n",
                    pake_strerror(derived));
        free(inputs);
        if (a.out_root >= 0) close(a.out_root);
        return derived == PAKE_E_ARG ? EXIT_USAGE : EXIT_LOCAL;
    }
    free(inputs);
    a.left = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    a.no_lanes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    a.ctx = g_main_context_new();
    a.loop = g_main_loop_new(a.ctx, FALSE);
    g_main_context_push_thread_default(a.ctx);
    GSource *sigs[2];
    int signums[2] = {SIGINT, SIGTERM};
    for (int i = 0; i < 2; i++) {
        sigs[i] = g_unix_signal_source_new(signums[i]);
        g_source_set_callback(sigs[i], on_sigint, &a, NULL);
        g_source_attach(sigs[i], a.ctx);
    }
    /* Over a file-size limit (ulimit -f, prlimit --fsize) a write fails
     * with EFBIG and fails that file (WRITE_ERROR, exit 5), the others go
     * on; by default SIGXFSZ killed the receiver mid-transfer instead. */
    signal(SIGXFSZ, SIG_IGN);
    cli_room_ice_load(&a);
    if (a.relay_only && cli_room_turn_count(&a.ice) == 0) {
        fprintf(stderr, "peerdrop: --relay needs a TURN server, and %s/config lists none\n",
                a.server);
        rc = EXIT_TRANSFER;
    } else if (!(a.sig = cli_signal_create(a.ctx, a.server, &cli_room_signal_callbacks, &a))) {
        fprintf(stderr, "peerdrop: bad server URL '%s'\n", a.server);
        rc = EXIT_USAGE;
    } else {
        if (!a.sending) cli_say(&a, "connecting to %s ...", a.server);
        g_main_loop_run(a.loop);
        rc = run_outcome(a.exit_code, a.auth_failures);
    }
    if (a.tty && !a.quiet) fputc('\n', stdout);
    if (a.drain) {
        g_source_destroy(a.drain);
        g_source_unref(a.drain);
    }
    cli_receiver_stop_wait(&a);
    cli_room_ice_stop(&a);
    while (a.peers)
        cli_peer_remove(&a, a.peers);
    cli_receiver_files_free(&a.kept);
    cli_signal_destroy(a.sig);
    for (int i = 0; i < 2; i++) {
        g_source_destroy(sigs[i]);
        g_source_unref(sigs[i]);
    }
    /* let destroyed sources and idle reapers run out */
    while (g_main_context_iteration(a.ctx, FALSE)) {
    }
    g_main_context_pop_thread_default(a.ctx);
    g_main_loop_unref(a.loop);
    g_main_context_unref(a.ctx); /* destroys pending retries (and frees them) */
    g_hash_table_destroy(a.left);
    g_hash_table_destroy(a.no_lanes);
    for (size_t i = 0; i < a.nfiles; i++) {
        free(a.files[i].path);
        free(a.entries[i].name);
        free(a.entries[i].dir);
        free(a.entries[i].mime);
    }
    free(a.files);
    free(a.entries);
    if (a.text) sodium_memzero(a.text, a.text_len);
    free(a.text);
    cli_ice_servers_cleanup(&a.ice);
    if (a.out_root >= 0) close(a.out_root);
    sodium_memzero(a.password, sizeof a.password);
    sodium_memzero(a.admission, sizeof a.admission);
    sodium_memzero(a.prs, sizeof a.prs);
    return rc;
}

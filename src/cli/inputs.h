/* inputs.h: what the user gives the CLI to say besides files, checked
 * before anything starts: the text of `send --text` (an argument, or
 * standard input for "-") and the name its peers show (--name, or the
 * host name). Each says what is wrong on stderr and returns -1. */
#ifndef PD_CLI_INPUTS_H
#define PD_CLI_INPUTS_H

#include "cli/app.h"

/* --text ARG: 1 to XFER_MAX_TEXT bytes of UTF-8, into a->text (malloc'd)
 * and a->text_len. 0 or -1. */
int cli_take_text(cli_app *a, const char *arg);
/* --name NAME (NULL: the host name, cut to XFER_MAX_PEER_NAME bytes at a
 * character, or none when it is not UTF-8) into a->name. 0, or -1 for a
 * --name that does not fit. */
int cli_take_name(cli_app *a, const char *given);

#endif

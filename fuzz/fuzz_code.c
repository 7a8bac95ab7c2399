/* fuzz_code.c: the short code parser (src/pake/code.c) on arbitrary text,
 * as `peerdrop receive` gets it from a user (issue 14). A parsed code
 * formats to a canonical string that parses back to the same code and
 * names its room; a refusal always says "not a valid code: ..." within its
 * buffer; code_looks_like never reads past the text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pake/code.h"

#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * CODE_INPUT_MAX_LEN) return 0;
    char text[2 * CODE_INPUT_MAX_LEN + 1];
    memcpy(text, data, size);
    text[size] = 0;
    (void)code_looks_like(text);
    short_code c;
    char err[CODE_ERROR_CAP];
    if (!code_parse(text, &c, err, sizeof err)) {
        FUZZ_ASSERT(strncmp(err, "not a valid code: ", 18) == 0 && strlen(err) < sizeof err);
        return 0;
    }
    FUZZ_ASSERT(c.nameplate >= 1 && c.nameplate <= CODE_NAMEPLATE_MAX);
    FUZZ_ASSERT(c.word1 < CODE_WORD_COUNT && c.word2 < CODE_WORD_COUNT);
    char canon[CODE_MAX_LEN + 1], room[CODE_ROOM_MAX_LEN + 1];
    code_format(&c, canon);
    code_room(&c, room);
    FUZZ_ASSERT(code_looks_like(canon));
    short_code back;
    FUZZ_ASSERT(code_parse(canon, &back, err, sizeof err));
    FUZZ_ASSERT(back.nameplate == c.nameplate && back.word1 == c.word1 && back.word2 == c.word2);
    FUZZ_ASSERT(strncmp(room, "code-", 5) == 0);
    return 0;
}

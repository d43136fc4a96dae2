/* Unit tests for suggest.c: the edit distance and "did you mean". */
#include "config.h"

#include "suggest.h"
#include "tap.h"

int
main(void)
{
	static const char *const keys[] = { "name", "run", "depends_on", "env",
		"workdir", "timeout", "retries", "continue_on_error" };
	size_t n = sizeof(keys) / sizeof(keys[0]);

	is_int((long long)suggest_distance("", ""), 0, "empty strings");
	is_int((long long)suggest_distance("abc", "abc"), 0, "equal");
	is_int((long long)suggest_distance("abc", "abd"), 1, "substitution");
	is_int((long long)suggest_distance("abc", "ab"), 1, "deletion");
	is_int((long long)suggest_distance("ab", "abc"), 1, "insertion");
	is_int((long long)suggest_distance("abcd", "acbd"), 1, "swap");
	is_int((long long)suggest_distance("kitten", "sitting"), 3, "kitten");
	is_str(suggest_closest("dependson", keys, n), "depends_on",
	    "dependson -> depends_on");
	is_str(suggest_closest("tiemout", keys, n), "timeout",
	    "tiemout -> timeout");
	is_str(suggest_closest("Run", keys, n), "run", "case is ignored");
	is_str(suggest_closest("continue_on_eror", keys, n),
	    "continue_on_error", "long keys allow more edits");
	is_str(suggest_closest("zzzzzz", keys, n), NULL, "nothing close");
	is_str(suggest_closest("", keys, n), NULL, "empty word");
	is_str(suggest_closest("x", keys, n), NULL,
	    "one letter is too short "
	    "to guess from");
	return done_testing();
}

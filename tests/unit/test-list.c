/* Unit tests for list.c: the string list and the hashed name/value list. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "list.h"
#include "tap.h"

int
main(void)
{
	static const struct srcpos at = { 1, 1 };
	struct nvlist list = NVLIST_INIT;
	struct strlist strings = STRLIST_INIT;
	char name[32], value[32];
	size_t i, found = 0, in_order = 1;

	nvlist_set(&list, "A", "1", at);
	nvlist_set(&list, "B", "2", at);
	nvlist_set(&list, "A", "3", at);
	is_int((long long)list.len, 2, "setting a name again replaces it");
	is_str(list.items[0].name, "A", "in place: the first order is kept");
	is_str(nvlist_get(&list, "A")->value, "3", "with the new value");
	ok(nvlist_get(&list, "C") == NULL, "an absent name is NULL");
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "NAME_%zu", i);
		snprintf(value, sizeof(value), "v%zu", i);
		nvlist_set(&list, name, value, at);
	}
	for (i = 0; i < 20000; i++) {
		const struct nvpair *pair;

		snprintf(name, sizeof(name), "NAME_%zu", i);
		snprintf(value, sizeof(value), "v%zu", i);
		pair = nvlist_get(&list, name);
		found += pair != NULL && strcmp(pair->value, value) == 0;
		in_order &= strcmp(list.items[i + 2].name, name) == 0;
	}
	is_int((long long)found, 20000, "20,000 names are all found (hashed)");
	ok(in_order, "and kept in the order they were added");
	nvlist_set(&list, "NAME_777", "changed", at);
	is_str(nvlist_get(&list, "NAME_777")->value, "changed",
	    "a hashed name is replaced");
	is_int((long long)list.len, 20002, "without adding an entry");
	ok(nvlist_get(&list, "NAME_20000") == NULL, "absent in a big list");
	nvlist_release(&list);
	is_int((long long)list.len, 0, "release empties the list");

	strlist_push(&strings, "x", at);
	strlist_push(&strings, "y", at);
	is_int(strlist_find(&strings, "y"), 1, "strlist_find");
	is_int(
	    strlist_find(&strings, "z"), -1, "strlist_find of an absent one");
	strlist_release(&strings);
	return done_testing();
}

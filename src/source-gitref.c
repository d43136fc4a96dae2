/*
 * Resolving a git source's ref against what the remote advertises
 * (source-gitref.h), and saying clearly what the remote has when the ref
 * is not there.  Pure functions over git_remote_ls()'s list: no network,
 * no repository.
 */
#include "config.h"

#include "source-gitref.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suggest.h"
#include "xalloc.h"

/* How many names of each kind a message lists. */
#define LISTED_NAMES 10

bool
gitref_is_hex_id(const char *text)
{
	size_t len = strlen(text), i;

	if (len < 4 || len > GIT_OID_HEXSZ)
		return false;
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)text[i]))
			return false;
	return true;
}

static const git_remote_head *
find_head(const git_remote_head **heads, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(heads[i]->name, name) == 0)
			return heads[i];
	return NULL;
}

static bool
starts_with(const char *text, const char *prefix)
{
	return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* Where a fetched ref is kept: branches as remote-tracking branches of
 * origin, everything else under its own name. */
static char *
local_name_for(const char *remote_name)
{
	if (starts_with(remote_name, "refs/heads/"))
		return xasprintf("refs/remotes/origin/%s",
		    remote_name + strlen("refs/heads/"));
	return xstrdup(remote_name);
}

/* The default branch: HEAD's symref, or else a branch at HEAD's commit
 * (main and master first), as git did before symrefs were advertised. */
static const git_remote_head *
default_branch(const git_remote_head **heads, size_t n)
{
	static const char *const usual[] = { "refs/heads/main",
		"refs/heads/master" };
	const git_remote_head *head = find_head(heads, n, "HEAD"), *branch;
	size_t i;

	if (head == NULL)
		return NULL;
	if (head->symref_target != NULL)
		return find_head(heads, n, head->symref_target);
	for (i = 0; i < 2; i++)
		if ((branch = find_head(heads, n, usual[i])) != NULL &&
		    git_oid_equal(&branch->oid, &head->oid))
			return branch;
	for (i = 0; i < n; i++)
		if (starts_with(heads[i]->name, "refs/heads/") &&
		    git_oid_equal(&heads[i]->oid, &head->oid))
			return heads[i];
	return NULL;
}

/* "pull/7" and "pull/7/head" (with kind "pull") are refs/pull/7/head. */
static char *
special_ref_name(const char *ref, const char *kind)
{
	size_t len = strlen(kind), digits;
	const char *number;

	if (strncmp(ref, kind, len) != 0 || ref[len] != '/')
		return NULL;
	number = ref + len + 1;
	digits = strspn(number, "0123456789");
	if (digits == 0 ||
	    (number[digits] != '\0' && strcmp(number + digits, "/head") != 0))
		return NULL;
	return xasprintf("refs/%s/%.*s/head", kind, (int)digits, number);
}

/* The name a ref goes by in messages: "main", "v1", "pull/7"; NULL for
 * refs not worth listing (peeled tags, HEAD, other namespaces). */
static char *
short_name(const char *name, int *kind)
{
	static const char *const prefixes[] = { "refs/heads/", "refs/tags/",
		"refs/pull/", "refs/merge-requests/" };
	size_t i, len;

	for (i = 0; i < 4; i++) {
		if (!starts_with(name, prefixes[i]))
			continue;
		*kind = (int)i;
		len = strlen(name);
		if (len > 3 && strcmp(name + len - 3, "^{}") == 0)
			return NULL;
		if (i < 2)
			return xstrdup(name + strlen(prefixes[i]));
		if (len < 5 || strcmp(name + len - 5, "/head") != 0)
			return NULL;
		return xstrndup(name + 5, len - 5 - 5);
	}
	return NULL;
}

struct names {
	char **items;
	size_t len, cap;
};

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the strings before the NULL to *text. */
static void
append(char **text, ...)
{
	const char *piece;
	char *joined;
	va_list ap;

	va_start(ap, text);
	while ((piece = va_arg(ap, const char *)) != NULL) {
		joined = xasprintf("%s%s", *text, piece);
		free(*text);
		*text = joined;
	}
	va_end(ap);
}

/* Appends "; branches: a, b (and 3 more)" for one kind of names. */
static void
list_kind(char **text, const char *what, struct names *names)
{
	char count[64];
	size_t i;

	if (names->len == 0)
		return;
	qsort(names->items, names->len, sizeof(*names->items), compare_names);
	append(text, "; ", what, ":", NULL);
	for (i = 0; i < names->len && i < LISTED_NAMES; i++)
		append(text, i == 0 ? " " : ", ", names->items[i], NULL);
	if (names->len > LISTED_NAMES) {
		snprintf(
		    count, sizeof(count), "%zu", names->len - LISTED_NAMES);
		append(text, " (and ", count, " more)", NULL);
	}
}

/* Keeps name in best[0..3), sorted by distance, if it is among the three
 * closest so far. */
static void
keep_closest(const char **best, size_t *distance, const char *name, size_t d)
{
	size_t j = 3, m;

	while (j > 0 && (best[j - 1] == NULL || d < distance[j - 1]))
		j--;
	if (j >= 3)
		return;
	for (m = 2; m > j; m--) {
		best[m] = best[m - 1];
		distance[m] = distance[m - 1];
	}
	best[j] = name;
	distance[j] = d;
}

/* Appends "; closest: main, maint" with the names nearest to ref. */
static void
list_closest(char **text, const char *ref, struct names *kinds)
{
	const char *best[3] = { NULL, NULL, NULL };
	size_t distance[3] = { 0 }, i, k, d, limit;

	limit = strlen(ref) / 2 > 2 ? strlen(ref) / 2 : 2;
	for (k = 0; k < 4; k++)
		for (i = 0; i < kinds[k].len; i++) {
			d = suggest_distance(ref, kinds[k].items[i]);
			if (d <= limit)
				keep_closest(
				    best, distance, kinds[k].items[i], d);
		}
	for (i = 0; i < 3 && best[i] != NULL; i++)
		append(text, i == 0 ? "; closest: " : ", ", best[i], NULL);
}

/* What the remote has, for messages, led by the names closest to ref. */
static char *
describe_remote(const char *ref, const git_remote_head **heads, size_t n)
{
	static const char *const what[] = { "branches", "tags", "pull requests",
		"merge requests" };
	struct names kinds[4] = { { 0 } };
	char *text = xstrdup(""), *name;
	size_t i, k;
	int kind;

	for (i = 0; i < n; i++) {
		if ((name = short_name(heads[i]->name, &kind)) == NULL)
			continue;
		xgrow(&kinds[kind].items, &kinds[kind].cap, kinds[kind].len + 1,
		    sizeof(char *));
		kinds[kind].items[kinds[kind].len++] = name;
	}
	if (ref != NULL)
		list_closest(&text, ref, kinds);
	for (k = 0; k < 4; k++) {
		list_kind(&text, what[k], &kinds[k]);
		for (i = 0; i < kinds[k].len; i++)
			free(kinds[k].items[i]);
		free(kinds[k].items);
	}
	if (text[0] == '\0')
		append(&text, "; the remote has no branches or tags", NULL);
	return text;
}

static void
set_named(struct gitref *out, const git_remote_head *head)
{
	out->remote_name = xstrdup(head->name);
	out->local_name = local_name_for(head->name);
	git_oid_cpy(&out->oid, &head->oid);
}

/* Steps 3 to 7 of the order in source-gitref.h. */
static const git_remote_head *
find_named(const char *ref, const git_remote_head **heads, size_t n)
{
	static const char *const prefixes[] = { "refs/heads/", "refs/tags/" };
	const git_remote_head *head;
	char *name;
	size_t i;

	if (starts_with(ref, "refs/") && (head = find_head(heads, n, ref)))
		return head;
	for (i = 0; i < 2; i++) {
		name = xasprintf("%s%s", prefixes[i], ref);
		head = find_head(heads, n, name);
		free(name);
		if (head != NULL)
			return head;
	}
	if ((name = special_ref_name(ref, "pull")) == NULL)
		name = special_ref_name(ref, "merge-requests");
	head = name != NULL ? find_head(heads, n, name) : NULL;
	free(name);
	return head;
}

static bool
has_special_refs(const git_remote_head **heads, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (starts_with(heads[i]->name, "refs/pull/") ||
		    starts_with(heads[i]->name, "refs/merge-requests/"))
			return true;
	return false;
}

static void
set_id(struct gitref *out, const char *ref)
{
	size_t i;

	out->by_id = true;
	out->id = xstrdup(ref);
	for (i = 0; out->id[i] != '\0'; i++)
		out->id[i] = (char)tolower((unsigned char)out->id[i]);
}

int
gitref_resolve(struct gitref *out, const char *ref,
    const git_remote_head **heads, size_t n, char **error)
{
	const git_remote_head *head;

	*error = NULL;
	memset(out, 0, sizeof(*out));
	out->has_special = has_special_refs(heads, n);
	out->listing = describe_remote(ref, heads, n);
	if (ref == NULL || ref[0] == '\0' || strcmp(ref, "HEAD") == 0) {
		if ((head = default_branch(heads, n)) == NULL) {
			*error = xasprintf("the remote has no default branch "
					   "(HEAD): give a ref%s",
			    out->listing);
			return -1;
		}
		set_named(out, head);
		return 0;
	}
	if (strlen(ref) == GIT_OID_HEXSZ && gitref_is_hex_id(ref)) {
		set_id(out, ref);
		return 0;
	}
	if ((head = find_named(ref, heads, n)) != NULL) {
		set_named(out, head);
		return 0;
	}
	if (gitref_is_hex_id(ref)) {
		set_id(out, ref);
		return 0;
	}
	*error = xasprintf("ref '%s' not found: it is no branch, tag, pull or "
			   "merge request ref of the remote, nor a commit "
			   "id%s",
	    ref, out->listing);
	return -1;
}

/* Ranks the refs that may stand for a commit: branches first, then
 * tags, then anything else; HEAD never (it is a symbolic name). */
static int
tip_rank(const char *name)
{
	if (starts_with(name, "refs/heads/"))
		return 3;
	if (starts_with(name, "refs/tags/"))
		return 2;
	return starts_with(name, "refs/") ? 1 : 0;
}

bool
gitref_find_tip(struct gitref *ref, const git_remote_head **heads, size_t n)
{
	const git_remote_head *best = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	size_t i, len = strlen(ref->id), cut;

	for (i = 0; i < n; i++) {
		git_oid_tostr(hex, sizeof(hex), &heads[i]->oid);
		if (strncmp(hex, ref->id, len) != 0 ||
		    tip_rank(heads[i]->name) == 0)
			continue;
		/* Two commits match an abbreviated id: ambiguous here. */
		if (best != NULL && !git_oid_equal(&best->oid, &heads[i]->oid))
			return false;
		if (best == NULL ||
		    tip_rank(heads[i]->name) > tip_rank(best->name))
			best = heads[i];
	}
	if (best == NULL)
		return false;
	/* A peeled tag ("refs/tags/v2^{}") is fetched as the tag. */
	cut = strcspn(best->name, "^");
	ref->remote_name = xstrndup(best->name, cut);
	ref->local_name = local_name_for(ref->remote_name);
	git_oid_cpy(&ref->oid, &best->oid);
	return true;
}

void
gitref_release(struct gitref *ref)
{
	free(ref->id);
	free(ref->remote_name);
	free(ref->local_name);
	free(ref->listing);
	memset(ref, 0, sizeof(*ref));
}

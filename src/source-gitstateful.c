/*
 * libgit2's smart transport over its own git:// or ssh subtransport, with
 * the want list that libgit2 1.7 and 1.8 resend in a shallow fetch dropped
 * (source-gitstateful.h says why).  The subtransport and stream here wrap
 * libgit2's: every call is passed on, and only the upload-pack stream's
 * writes are looked at.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <git2/sys/transport.h>

#include "source-gitstateful.h"
#include "xalloc.h"

/* Which of libgit2's subtransports is wrapped. */
struct inner_kind {
	git_smart_subtransport_cb make;
};

static struct inner_kind git_kind = { git_smart_subtransport_git };
static struct inner_kind ssh_kind = { git_smart_subtransport_ssh };

struct wrapper {
	git_smart_subtransport parent; /* first: libgit2 passes &parent */
	git_smart_subtransport *inner;
	struct wrapper_stream *current; /* the stream last handed out */
};

struct wrapper_stream {
	git_smart_subtransport_stream parent; /* first, as above */
	git_smart_subtransport_stream *inner;
	struct wrapper *owner;
	bool upload_pack; /* only upload-pack's wants are looked at */
	char *wants; /* the stream's first write, when it was a want list */
	size_t wants_len;
};

static bool
starts_with(const char *text, const char *prefix)
{
	return strncmp(text, prefix, strlen(prefix)) == 0;
}

bool
gitstateful_needed(const char *url)
{
	int major = 0, minor = 0, revision = 0;
	bool stateful;

	if (url == NULL)
		return false;
	/* libgit2 takes a URL with no scheme but a colon for scp-like ssh. */
	stateful = starts_with(url, "git://") || starts_with(url, "ssh://") ||
	    starts_with(url, "ssh+git://") || starts_with(url, "git+ssh://") ||
	    (strstr(url, "://") == NULL && strchr(url, ':') != NULL);
	git_libgit2_version(&major, &minor, &revision);
	return stateful && major == 1 && (minor == 7 || minor == 8);
}

/* ---- the stream ---- */

/* A pkt-line that is a want: four hex digits of length, then "want ". */
static bool
is_want_list(const char *buffer, size_t len)
{
	return len > 9 && memcmp(buffer + 4, "want ", 5) == 0;
}

static int
stream_read(git_smart_subtransport_stream *parent, char *buffer,
    size_t buf_size, size_t *bytes_read)
{
	struct wrapper_stream *s = (struct wrapper_stream *)parent;

	return s->inner->read(s->inner, buffer, buf_size, bytes_read);
}

static int
stream_write(
    git_smart_subtransport_stream *parent, const char *buffer, size_t len)
{
	struct wrapper_stream *s = (struct wrapper_stream *)parent;

	if (!s->upload_pack)
		return s->inner->write(s->inner, buffer, len);
	if (s->wants == NULL) {
		if (is_want_list(buffer, len)) {
			s->wants = xmalloc(len);
			memcpy(s->wants, buffer, len);
			s->wants_len = len;
		} else {
			s->upload_pack =
			    false; /* not the negotiation we know */
		}
	} else if (len >= s->wants_len &&
	    memcmp(buffer, s->wants, s->wants_len) == 0) {
		/* The resent copy: the server has had the wants. */
		buffer += s->wants_len;
		len -= s->wants_len;
		if (len == 0)
			return 0;
	}
	return s->inner->write(s->inner, buffer, len);
}

static void
stream_free(git_smart_subtransport_stream *parent)
{
	struct wrapper_stream *s = (struct wrapper_stream *)parent;

	s->inner->free(s->inner);
	if (s->owner->current == s)
		s->owner->current = NULL;
	free(s->wants);
	free(s);
}

static struct wrapper_stream *
stream_new(struct wrapper *owner, git_smart_subtransport_stream *inner,
    git_smart_service_t action)
{
	struct wrapper_stream *s = xcalloc(1, sizeof(*s));

	s->parent.subtransport = &owner->parent;
	s->parent.read = stream_read;
	s->parent.write = stream_write;
	s->parent.free = stream_free;
	s->inner = inner;
	s->owner = owner;
	s->upload_pack = action == GIT_SERVICE_UPLOADPACK_LS ||
	    action == GIT_SERVICE_UPLOADPACK;
	return s;
}

/* ---- the subtransport ---- */

/* A stateful subtransport hands out one stream per connection, the same
 * for every action on it; so does this one. */
static int
wrapper_action(git_smart_subtransport_stream **out,
    git_smart_subtransport *parent, const char *url, git_smart_service_t action)
{
	struct wrapper *t = (struct wrapper *)parent;
	git_smart_subtransport_stream *inner;
	int rc;

	if ((rc = t->inner->action(&inner, t->inner, url, action)) < 0)
		return rc;
	if (t->current == NULL || t->current->inner != inner)
		t->current = stream_new(t, inner, action);
	*out = &t->current->parent;
	return 0;
}

static int
wrapper_close(git_smart_subtransport *parent)
{
	struct wrapper *t = (struct wrapper *)parent;

	return t->inner->close(t->inner);
}

static void
wrapper_free(git_smart_subtransport *parent)
{
	struct wrapper *t = (struct wrapper *)parent;

	t->inner->free(t->inner);
	free(t);
}

/* A git_smart_subtransport_cb; param is the inner_kind. */
static int
wrapper_new(git_smart_subtransport **out, git_transport *owner, void *param)
{
	const struct inner_kind *kind = param;
	struct wrapper *t = xcalloc(1, sizeof(*t));
	int rc;

	if ((rc = kind->make(&t->inner, owner, NULL)) < 0) {
		free(t);
		return rc;
	}
	t->parent.action = wrapper_action;
	t->parent.close = wrapper_close;
	t->parent.free = wrapper_free;
	*out = &t->parent;
	return 0;
}

int
gitstateful_transport(git_transport **out, git_remote *owner, void *payload)
{
	const char *url = git_remote_url(owner);
	git_smart_subtransport_definition definition = { wrapper_new, 0, NULL };

	(void)payload;
	*out = NULL;
	if (!gitstateful_needed(url))
		return 0;
	definition.param = starts_with(url, "git://") ? &git_kind : &ssh_kind;
	return git_transport_smart(out, owner, &definition);
}

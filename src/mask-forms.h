/*
 * The forms in which a secret shows up in output, for the secret masker
 * (mask.h): the secret itself, its whitespace variants and its encodings.
 * Each form becomes a needle of the masker's automaton.
 *
 * Whitespace variants (only for a secret holding whitespace; needle
 * variants rather than a whitespace-normalising matcher, so matching stays
 * exact and streaming):
 *   - every "\n" as "\r\n" (a terminal, a Windows tool);
 *   - every line break ("\n" or "\r\n") as one space;
 *   - the words joined by single spaces, what `echo $X` prints (IFS
 *     splitting drops leading, trailing and repeated spaces, tabs and
 *     newlines);
 *   - without leading and trailing whitespace (`$(cat file)`, `read`).
 * A secret whose line breaks arrive in more than one of these forms at
 * once is not matched.  `set -x` keeps newlines inside quotes, so it needs
 * no variant.
 *
 * Encodings, of the secret and of its trimmed form:
 *   - base64, standard and URL-safe alphabets, in each of the three byte
 *     alignments: the characters that come wholly from secret bytes (a
 *     secret inside a longer encoded blob), and the same run with the final
 *     character the encoder writes when the data ends with the secret;
 *   - base32 (RFC 4648) of data that begins with the secret, the run
 *     wholly from secret bytes and the same with the final character;
 *   - hex, lower and upper case, and lower case with a space between two
 *     bytes (Node's Buffer, which shows only the first 50, and Python's
 *     bytes.hex(' '));
 *   - percent-encoding: every byte (upper and lower case hex), and only the
 *     bytes that are not unreserved (RFC 3986: all but A-Z a-z 0-9 - . _ ~;
 *     Python's quote(safe=''), jq's @uri), in upper and in lower case hex
 *     (shell printf '%%%02x'), also keeping '/' (Python's quote()), with '+'
 *     for space in upper and in lower case hex (curl's --data-urlencode in
 *     a body and in a --get query, Python's quote_plus(), Go's
 *     QueryEscape) and keeping !'()* (JavaScript's encodeURIComponent),
 *     and with '+' for space and '~' escaped (PHP's urlencode), with
 *     '+' for space and '*' kept (Java's URLEncoder, JavaScript's
 *     URLSearchParams), and as a WHATWG URL writes its user info;
 *   - quoted-printable: '=', control characters and bytes above 0x7e as
 *     =XX;
 *   - JSON string escaping: \" \\ \b \f \n \r \t and \u00xx for other
 *     control characters (Python without ensure_ascii, JavaScript), also
 *     with upper-case hex (jansson), with \/ (PHP; also with every
 *     non-ASCII character as \uXXXX, its json_encode(), and with U+2028
 *     U+2029 escaped), with DEL as \u007f
 *     (jq), with DEL and every non-ASCII character as \uXXXX, a surrogate
 *     pair above U+FFFF, and each byte that is no UTF-8 as \udcXX
 *     (Python's ensure_ascii, with the surrogateescape decoding of
 *     os.environ; jq -a), with < > & and U+2028 U+2029 escaped (Go) and
 *     with only U+2028 U+2029 escaped (Go without HTML escaping), and
 *     HTML-safe: < > & ' as \u escapes with every non-ASCII character
 *     (Jinja2's tojson), < > & in upper case (Django's json_script), also
 *     " with \/ (PHP's JSON_HEX_* flags, Laravel's @json), and < > & ' "
 *     + with \/ (Go's html/template in a JavaScript string);
 *   - \x escapes: \\ \t \n \r and other control characters and DEL as
 *     \xNN, with the characters above ASCII kept (Python's repr()), as
 *     \xNN \uNNNN \UNNNNNNNN (Python's ascii(); in upper case with \",
 *     PyYAML's double quotes) or each of their bytes as \xNN (Python's
 *     repr() of bytes);
 *   - as cat -v shows them: M- before a byte above 0x7f, ^X for a control
 *     character and ^? for DEL, with tabs kept or as ^I (cat -T, cat -A);
 *   - HTML and XML escaping: & < > as &amp; &lt; &gt;, with " as &quot;
 *     or &#34; or kept, and ' as &#x27;, &#39;, &#039; or &apos; or kept
 *     (Python's html.escape, Go, Jinja2, Ruby's ERB, PHP, XML), with + as
 *     &#43; too (Go's html/template), = as &#x3D; and ` as &#x60;
 *     (Handlebars), and / as &#x2F; too (mustache.js); in XML
 *     attributes, also a tab, "\n" and "\r" as &#09; &#10; &#13;
 *     (Python's ElementTree), &#9; &#10; &#13; (libxml2, Java) or &#x9;
 *     &#xA; &#xD; (Go, .NET);
 *   - shell quoting, the text between the quotes: POSIX single quotes with
 *     ' as '\'' (bash's set -x) or as '"'"' (Python's shlex.quote); double
 *     quotes with \ before " \ $ ` (declare -p); printf %q's backslashes
 *     before the shell's special characters; and bash's $'...' (printf %q,
 *     declare -p and set -x of a value holding control characters), with
 *     bytes above 0x7f kept (a UTF-8 locale) or as \ooo (the C locale);
 *   - ' doubled, the text between the quotes of an SQL string literal or a
 *     YAML single-quoted scalar, and " doubled (a CSV field, PowerShell).
 *
 * A multi-line secret (one holding "\n") also has each of its lines as a
 * form, without the line's leading and trailing whitespace, so that a key
 * printed indented (sed, Helm's indent), numbered (nl), with a prefix on
 * each line or only in part (head -3) is masked line by line; the caller
 * drops lines shorter than the minimum length.  PEM armour lines
 * ("-----BEGIN ...", "-----END ...") are not secret and are left out.
 */
#ifndef JOBRUN_MASK_FORMS_H
#define JOBRUN_MASK_FORMS_H

#include <stdbool.h>
#include <stddef.h>

/* Receives one form; bytes are wiped after the call returns. */
typedef void (*mask_forms_fn)(
    void *context, const unsigned char *bytes, size_t size);

/*
 * Calls add() with the secret and then with each variant and encoding
 * listed above.  A form may come more than once and may be shorter than
 * the secret (a base64 run, a trimmed form); the caller filters.  Forms
 * known to repeat one given before are left out: the JSON, shell and all
 * but the every-byte percent forms of a secret whose bytes are all letters,
 * digits, '-', '_' and '.' (they are the secret), a base64 run without a
 * final partial character (the same with it), a URL-safe run without '-'
 * or '_', a whitespace variant or the trimmed secret equal to the secret or
 * to another of them, and a hex, percent, JSON or shell form equal to the
 * secret or to another of those (most variants differ only for a secret
 * holding a byte they write differently).
 */
void mask_forms_each(
    const unsigned char *secret, size_t size, mask_forms_fn add, void *context);

/*
 * The base64 characters that come wholly from the size bytes of secret
 * when alignment (0, 1 or 2) unknown bytes precede it in its group of
 * three, with the final partial character when at_end (the data ends with
 * the secret).  Writes at most mask_forms_base64_max(size) bytes to out and
 * returns how many.
 */
size_t mask_forms_base64_run(unsigned char *out, const unsigned char *secret,
    size_t size, unsigned alignment, int url_safe, int at_end);

/*
 * The folded view, in which a stream searches for needles: line breaks
 * ("\n" or "\r\n") between two encoded characters (those of base64 in
 * both alphabets and of hex: A-Z a-z 0-9 + / - _) are left out, so that
 * an encoded run matches across the breaks of any wrapping; so are the
 * spaces and tabs that indent the line after such a break, at most
 * MASK_FOLD_INDENT_MAX of them (a wrapped run indented by sed, YAML or
 * Helm's indent).  Any other line break with such an indent after it,
 * before a character that is no line break, is one space (a long value
 * that a YAML emitter wrapped at a space); at a needle's start or end it
 * is left out.  A needle is
 * folded the same way, a break at its start or end counting as between
 * encoded characters when the needle's side of it is one (the text beyond
 * may be too), and so is a final "\r" after an encoded character: the
 * folded needle is then part of the folded text wherever the needle is in
 * the text.  Colour and erase codes (mask_forms_csi()) are left out too,
 * wherever they are, so that a secret a tool printed with a match
 * coloured inside it (grep --color=always) is still the secret; line
 * breaks are judged by the bytes beside them as they are.  Writes the
 * folded bytes to out (room for size bytes; may be in; NULL: only counts
 * them) and returns their number.
 */
#define MASK_FOLD_INDENT_MAX 64

/* The longest colour or erase code left out of the folded view. */
#define MASK_FOLD_CSI_MAX 64

/*
 * The length of the colour (SGR) or erase-in-line code that in[0, size)
 * begins with: ESC '[', digits, ';' and ':', then 'm' or 'K', at most
 * MASK_FOLD_CSI_MAX bytes; else 0, with *partial set when in is all of
 * such a code's beginning (more bytes may complete it).
 */
static inline size_t
mask_forms_csi(const unsigned char *in, size_t size, bool *partial)
{
	size_t i;

	*partial = false;
	if (size == 0 || in[0] != 0x1b)
		return 0;
	if (size == 1) {
		*partial = true;
		return 0;
	}
	if (in[1] != '[')
		return 0;
	for (i = 2; i < size && i < MASK_FOLD_CSI_MAX; i++) {
		if (in[i] == 'm' || in[i] == 'K')
			return i + 1;
		if (!((in[i] >= '0' && in[i] <= '9') || in[i] == ';' ||
			in[i] == ':'))
			return 0;
	}
	*partial = i == size && i < MASK_FOLD_CSI_MAX;
	return 0;
}

size_t mask_forms_fold(
    unsigned char *out, const unsigned char *in, size_t size);

/* Whether c is an encoded character (see mask_forms_fold()). */
static inline bool
mask_forms_encoded(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '-' ||
	    c == '_';
}

static inline size_t
mask_forms_base64_max(size_t size)
{
	return (size + 4) / 3 * 4 + 4;
}

#endif

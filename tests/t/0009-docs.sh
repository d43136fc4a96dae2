#!/bin/sh
# The documentation keeps up with the code.  The lists below are read from
# the sources, so a new option, variable, setting or job file key without
# documentation fails here:
#   - options (src/cli.c) in the help texts and in jobrun(1);
#   - commands (src/cli.c) in jobrun(1);
#   - variables and settings (src/configuration.c, src/runner.c) in jobrun(1);
#   - the members of result.json (src/result.c) and of the JSON lines of
#     --log-format json (src/console.c), and the streams those lines name, in
#     their sections of jobrun(1), which also names JOBRUN_OUTPUT,
#     result.json and NO_COLOR;
#   - job file keys (the field tables of src/jobfile.c) in jobrun.yaml(5)
#     and, table by table, in src/job.schema.json;
#   - the hooks and host services (every function-pointer member), every
#     enum value, every fact and every version of the changelog of
#     include/jobrun/plugin.h in jobrun-plugin(3);
#   - the pages render without warnings, and the job files shown in
#     jobrun.yaml(5) pass 'jobrun validate'.
. "$JOBRUN_SRCDIR/tests/lib.sh"

LC_ALL=C
export LC_ALL
SRC=$JOBRUN_SRCDIR/src
MAN1=$JOBRUN_SRCDIR/man/jobrun.1
MAN5=$JOBRUN_SRCDIR/man/jobrun.yaml.5
MAN3=$JOBRUN_SRCDIR/man/jobrun-plugin.3
HEADER=$JOBRUN_SRCDIR/include/jobrun/plugin.h
SCHEMA=$SRC/job.schema.json

# Roff source as plain text: "\-" is "-", font changes and "\&" vanish.
roff_text() { sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\&//g' "$1"; }
roff_text "$MAN1" >man1.txt
roff_text "$MAN5" >man5.txt
roff_text "$MAN3" >man3.txt

# ---- lists from the sources ----

sed -n '/^static const struct option options\[\] = {/,/^};/p' "$SRC/cli.c" |
	sed -n 's/^[[:space:]]*\(CONFIG_OPTION(\|{ \)"\([a-z][a-z0-9-]*\)".*/\2/p' \
		>options.list
# The short options are the string given to getopt_long(), wherever the
# call is wrapped.
tr '\n' ' ' <"$SRC/cli.c" | grep -o 'getopt_long([^;]*' |
	grep -o '"[^"]*"' | head -1 | tr -d '":' | fold -w1 >short.list
sed -n 's/^[[:space:]]*{ "\([a-z][a-z]*\)", CLI_[A-Z]* },$/\1/p' \
	"$SRC/cli.c" >commands.list
{
	grep -o '"JOBRUN_[A-Z0-9_]*"' "$SRC/configuration.c" "$SRC/runner.c" |
		sed 's/.*"\(.*\)"/\1/'
	# runnerlib's names are written R "CODE_DIR" in the table.
	grep -v '^#' "$SRC/configuration.c" | grep -o '\bR "[A-Z0-9_]*"' |
		sed 's/R "\(.*\)"/REACTORCIDE_\1/'
} | sort -u >variables.list
sed -n 's/^[[:space:]]*\[CONFIG_[A-Z_]*\] = { "\([a-z_]*\)".*/\1/p' \
	"$SRC/configuration.c" >settings.list
sed -n '/^static const struct yamlwalk_field [a-z_]*\[\] = {/,/^};/{
	s/^static const struct yamlwalk_field \([a-z_]*\)\[\].*/table \1/p
	s/^[[:space:]]*{ "\([a-z_]*\)",.*/\1/p
}' "$SRC/jobfile.c" >fields.list
grep -v '^table ' fields.list | sort -u >keys.list
# The members of result.json: every key result.c sets on a JSON object
# (calls may be wrapped).
tr '\n\t' '  ' <"$SRC/result.c" |
	grep -o 'json_object_set_new( *[a-z]*, *"[a-z_]*"' |
	sed 's/.*"\(.*\)"/\1/' | sort -u >result.list
# The members of a JSON line, from the function that makes one, and the
# streams its callers name.
sed -n '/^json_line(/,/^}/p' "$SRC/console.c" |
	grep -o '"[a-z_0-9]*"' | tr -d '"' | sort -u >json.list
grep -o 'emit_json([^"]*"[a-z]*"' "$SRC/console.c" |
	sed 's/.*"\(.*\)"/\1/' | sort -u >streams.list

# The plugin ABI: function-pointer members (hooks and host services), the
# values of its enums, the facts named in the comment of host->fact (the
# quoted names that open its lines) and the versions of its changelog.
grep -o '(\*[a-z_]*)(' "$HEADER" | tr -d '(*)' >pointers.list
sed -n '/^enum jobrun_[a-z_]* {$/,/^};/p' "$HEADER" |
	sed -n 's/^[[:space:]]*\(JOBRUN_[A-Z_]*\) = .*/\1/p' >enums.list
sed -n '/A fact about the job/,/\*\//p' "$HEADER" |
	sed -n 's/^[[:space:]]*\*   \(\("[a-z_]*",\{0,1\} *\)*\).*/\1/p' |
	grep -o '"[a-z_]*"' | tr -d '"' >facts.list
sed -n '/^ \* Versions (/,/^ \*$/p' "$HEADER" |
	sed -n 's/^ \*  \([0-9][0-9]*\.[0-9][0-9]*\)  .*/\1/p' >versions.list

# Where each field table of jobfile.c lives in the schema.
schema_place()
{
	case $1 in
	top_fields) echo "" ;;
	secrets_fields) echo secrets ;;
	source_fields) echo source ;;
	plugin_fields) echo plugin ;;
	step_fields) echo step ;;
	trigger_fields) echo trigger ;;
	trigger_source_fields) echo triggerSource ;;
	container_fields) echo container ;;
	container_resources_fields) echo containerResources ;;
	*) echo "?" ;;
	esac
}
tables=$(sed -n 's/^table //p' fields.list)

n_options=$(wc -l <options.list)
n_short=$(wc -l <short.list)
n_commands=$(wc -l <commands.list)
n_variables=$(wc -l <variables.list)
n_settings=$(wc -l <settings.list)
n_keys=$(wc -l <keys.list)
n_tables=$(echo $tables | wc -w)
n_result=$(wc -l <result.list)
n_json=$(wc -l <json.list)
n_streams=$(wc -l <streams.list)
n_pointers=$(wc -l <pointers.list)
n_enums=$(wc -l <enums.list)
n_facts=$(wc -l <facts.list)
n_versions=$(wc -l <versions.list)
plan $((7 + 2 * n_options + 2 * n_short + n_commands + n_variables + \
	n_settings + 3 + n_result + n_json + n_streams + 2 * n_keys + \
	n_tables + 1 + 1 + n_pointers + n_enums + n_facts + n_versions + \
	3 + 2))

ok "[ $n_options -ge 30 ]" "found the option table in src/cli.c ($n_options)"
ok "[ $n_variables -ge 30 ]" "found the variables ($n_variables)"
ok "[ $n_settings -ge 20 ]" "found the settings ($n_settings)"
ok "[ $n_keys -ge 40 ] && [ $n_tables -ge 7 ]" \
	"found the job file keys ($n_keys in $n_tables tables)"
ok "[ $n_short -ge 3 ] && [ $n_commands -ge 4 ]" \
	"found the short options and the commands"
ok "[ $n_result -ge 12 ] && [ $n_json -ge 5 ] && [ $n_streams -ge 2 ]" \
	"found the members of result.json ($n_result) and of JSON lines ($n_json), and their streams ($n_streams)"
ok "[ $n_pointers -ge 16 ] && [ $n_enums -ge 19 ] && [ $n_facts -ge 16 ] && [ $n_versions -ge 1 ]" \
	"found the plugin ABI's hooks and services ($n_pointers), enum values ($n_enums), facts ($n_facts) and versions ($n_versions)"

# ---- options ----

{
	"$JOBRUN" --help
	for topic in run validate config secret trigger output; do
		"$JOBRUN" help "$topic"
	done
} >help.txt 2>&1
ok "[ -s help.txt ]" "jobrun prints its help texts"

# has_option FILE OPTION: FILE names --OPTION, not just a longer option.
has_option() { grep -qE -- "(^|[^a-z-])--$2([^a-z0-9-]|\$)" "$1"; }

while read -r option; do
	ok "has_option help.txt '$option'" "the help names --$option"
	ok "has_option man1.txt '$option'" "jobrun(1) names --$option"
done <options.list

while read -r letter; do
	ok "grep -qE -- '(^|[^a-z-])-$letter([^a-zA-Z0-9-]|\$)' help.txt" \
		"the help names -$letter"
	ok "grep -qE -- '(^|[^a-z-])-$letter([^a-zA-Z0-9-]|\$)' man1.txt" \
		"jobrun(1) names -$letter"
done <short.list

while read -r command; do
	ok "grep -qE '^\\.B $command( |\$)' '$MAN1'" \
		"jobrun(1) describes the command $command"
done <commands.list

# ---- variables and settings ----

while read -r variable; do
	ok "grep -qw -- '$variable' man1.txt" "jobrun(1) names $variable"
done <variables.list

while read -r setting; do
	ok "grep -qx '\\.B $setting' '$MAN1'" \
		"jobrun(1) describes the setting $setting"
done <settings.list

# ---- files and console formats ----

for word in JOBRUN_OUTPUT result.json NO_COLOR; do
	ok "grep -qw -- '$word' man1.txt" "jobrun(1) names $word"
done

# section TITLE: the roff source of jobrun(1)'s subsection TITLE.
section()
{
	sed -n "/^\\.SS $1\$/,/^\\.S[HS] /p" "$MAN1" | sed '$d'
}
section 'result\.json' >result.section
section 'JSON lines' >json.section

while read -r member; do
	ok "grep -qx '\\.B $member' result.section" \
		"jobrun(1) describes the member $member of result.json"
done <result.list
while read -r member; do
	ok "grep -qx '\\.B $member' json.section" \
		"jobrun(1) describes the member $member of JSON lines"
done <json.list
while read -r stream; do
	ok "grep -qE '^\\.BR? $stream( |\$)' json.section" \
		"jobrun(1) names the stream $stream of JSON lines"
done <streams.list

# ---- job file keys ----

while read -r key; do
	ok "grep -qx '\\.B $key' '$MAN5'" "jobrun.yaml(5) describes the key $key"
done <keys.list

# ---- the plugin ABI ----

# A hook or service is shown as in the header, "(*name)(".
while read -r member; do
	ok "grep -qF -- '(*$member)(' man3.txt" \
		"jobrun-plugin(3) shows the member $member of the plugin ABI"
done <pointers.list
while read -r value; do
	ok "grep -qw -- '$value' man3.txt" "jobrun-plugin(3) names $value"
done <enums.list
sed -n '/^\.SH FACTS$/,/^\.SH /p' "$MAN3" >facts.section
while read -r fact; do
	ok "grep -qE '^\.BR? (.* )?$fact( |\$)' facts.section" \
		"jobrun-plugin(3) describes the fact $fact"
done <facts.list
sed -n '/^\.SH VERSIONS$/,/^\.SH /p' "$MAN3" >versions.section
while read -r version; do
	ok "grep -qx '\\.B $version' versions.section" \
		"jobrun-plugin(3) describes ABI version $version"
done <versions.list

# skip N REASON: reports the next N tests as skipped.
skip()
{
	_skip=$1
	while [ "$_skip" -gt 0 ]; do
		_tap_count=$((_tap_count + 1))
		echo "ok $_tap_count # SKIP $2"
		_skip=$((_skip - 1))
	done
}

if ! "$PYTHON3" -c 'import json' 2>/dev/null; then
	skip $((n_keys + n_tables + 1)) "no python3 to read the schema"
else

# The properties of each schema object, one per line; place "" is the top.
"$PYTHON3" - "$SCHEMA" >schema.keys <<'PY'
import json, sys
schema = json.load(open(sys.argv[1]))
places = [("", schema)] + list(schema.get("$defs", {}).items())
for place, node in places:
    for key in node.get("properties", {}):
        print("%s %s" % (place or "-", key))
PY
while read -r key; do
	ok "grep -q ' $key\$' schema.keys" "job.schema.json has the key $key"
done <keys.list

# Table by table, the schema allows exactly the keys the parser knows.
for table in $tables; do
	place=$(schema_place "$table")
	sed -n "/^table $table\$/,/^table /p" fields.list | grep -v '^table ' |
		sort >table.keys
	sed -n "s/^${place:--} //p" schema.keys | sort >place.keys
	is "$(if [ "$place" = "?" ]; then echo "no place in the schema"; else
		diff table.keys place.keys | grep '^[<>]'; fi)" "" \
		"job.schema.json ${place:-top level} has the keys of $table"
done

"$PYTHON3" - "$SCHEMA" >undescribed <<'PY'
import json, sys
# Subschemas under these keywords only restate properties described
# elsewhere.
RESTATING = ("if", "then", "else", "not", "dependentSchemas")
def walk(node, path):
    if isinstance(node, dict):
        for key, child in node.get("properties", {}).items():
            if "description" not in child:
                print(path + "/" + key)
        for key, child in node.items():
            if key not in RESTATING:
                walk(child, path + "/" + key)
    elif isinstance(node, list):
        for child in node:
            walk(child, path)
walk(json.load(open(sys.argv[1])), "")
PY
is "$(cat undescribed)" "" "every property in job.schema.json has a description"

fi

# ---- the pages themselves ----

if command -v groff >/dev/null 2>&1; then
	for page in "$MAN1" "$MAN5" "$MAN3"; do
		groff -man -Tutf8 -ww -z "$page" >groff.err 2>&1
		is "$(cat groff.err)" "" "${page##*/} renders without warnings"
	done
else
	skip 3 "groff not installed"
fi

# The job files shown in jobrun.yaml(5) are valid.
for section in SYNOPSIS EXAMPLE; do
	sed -n "/^\\.SH $section\$/,/^\\.SH /p" "$MAN5" |
		sed -n '/^\.nf$/,/^\.fi$/p' | sed '/^\.nf$/d; /^\.fi$/d' |
		sed "s/\\\\-/-/g; s/\\\\(aq/'/g; s/\\\\e/\\\\/g" >"$section.yaml"
	run "$JOBRUN" validate "$section.yaml"
	is "$status $(cat err)" "0 " "the job file in jobrun.yaml(5) $section is valid"
done

done_testing

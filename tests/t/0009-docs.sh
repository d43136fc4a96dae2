#!/bin/sh
# The documentation keeps up with the code.  The lists below are read from
# the sources, so a new option, variable, setting or job file key without
# documentation fails here:
#   - options (src/cli.c) in the help texts and in jobrun(1);
#   - commands (src/cli.c) in jobrun(1);
#   - variables and settings (src/configuration.c, src/runner.c) in jobrun(1);
#   - job file keys (the field tables of src/jobfile.c) in jobrun.yaml(5)
#     and, table by table, in src/job.schema.json;
#   - both pages render without warnings, and the job files shown in
#     jobrun.yaml(5) pass 'jobrun validate'.
. "$JOBRUN_SRCDIR/tests/lib.sh"

LC_ALL=C
export LC_ALL
SRC=$JOBRUN_SRCDIR/src
MAN1=$JOBRUN_SRCDIR/man/jobrun.1
MAN5=$JOBRUN_SRCDIR/man/jobrun.yaml.5
SCHEMA=$SRC/job.schema.json

# Options the help texts do not name yet.  A missing one is reported as a
# TODO (not a failure) until cli.c's help names it; jobrun(1) must still.
HELP_GAPS=" container runner-image ci-source-type "

# Roff source as plain text: "\-" is "-", font changes and "\&" vanish.
roff_text() { sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\&//g' "$1"; }
roff_text "$MAN1" >man1.txt
roff_text "$MAN5" >man5.txt

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
plan $((6 + 2 * n_options + 2 * n_short + n_commands + n_variables + \
	n_settings + 2 * n_keys + n_tables + 1 + 2 + 2))

ok "[ $n_options -ge 30 ]" "found the option table in src/cli.c ($n_options)"
ok "[ $n_variables -ge 30 ]" "found the variables ($n_variables)"
ok "[ $n_settings -ge 20 ]" "found the settings ($n_settings)"
ok "[ $n_keys -ge 40 ] && [ $n_tables -ge 7 ]" \
	"found the job file keys ($n_keys in $n_tables tables)"
ok "[ $n_short -ge 3 ] && [ $n_commands -ge 4 ]" \
	"found the short options and the commands"

# ---- options ----

{
	"$JOBRUN" --help
	for topic in run validate config; do
		"$JOBRUN" help "$topic"
	done
} >help.txt 2>&1
ok "[ -s help.txt ]" "jobrun prints its help texts"

# has_option FILE OPTION: FILE names --OPTION, not just a longer option.
has_option() { grep -qE -- "(^|[^a-z-])--$2([^a-z0-9-]|\$)" "$1"; }

while read -r option; do
	_tap_count=$((_tap_count + 1))
	if has_option help.txt "$option"; then
		echo "ok $_tap_count - the help names --$option"
	else
		case $HELP_GAPS in
		*" $option "*)
			echo "not ok $_tap_count - the help names --$option" \
				"# TODO src/cli.c's help texts do not name it"
			;;
		*)
			echo "not ok $_tap_count - the help names --$option"
			_tap_failed=$((_tap_failed + 1))
			;;
		esac
	fi
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

# ---- job file keys ----

while read -r key; do
	ok "grep -qx '\\.B $key' '$MAN5'" "jobrun.yaml(5) describes the key $key"
done <keys.list

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
	for page in "$MAN1" "$MAN5"; do
		groff -man -Tutf8 -ww -z "$page" >groff.err 2>&1
		is "$(cat groff.err)" "" "${page##*/} renders without warnings"
	done
else
	skip 2 "groff not installed"
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

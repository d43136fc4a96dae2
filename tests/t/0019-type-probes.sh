#!/bin/sh
# The JSON Schema and 'jobrun validate' agree on every type: probes put many
# values (tests/type-probes.py: integers in every spelling, durations with
# every unit at and past their bounds, booleans in every YAML spelling,
# null, quoted values, collections) into each typed field of a valid job
# file, and each probe must be accepted by both or refused by both.  The
# rule both follow is YAML 1.2's core schema: a plain 12, +12, 0o14 or 0xc
# is an integer, anything quoted is a string, and only true/false (three
# spellings each) are booleans.
. "$JOBRUN_SRCDIR/tests/lib.sh"

if ! "$PYTHON3" -c 'import jsonschema, yaml' 2>/dev/null; then
	echo "1..0 # SKIP python3-jsonschema not installed"
	exit 0
fi

SCHEMA=$JOBRUN_SRCDIR/src/job.schema.json
"$PYTHON3" "$JOBRUN_SRCDIR/tests/type-probes.py" probes || exit 1
n=$(wc -l <probes/probes.txt)
plan $((n + 6))

# The schema's verdicts, all in one run: "probes/NNNN.yaml: ok|invalid...".
"$PYTHON3" "$JOBRUN_SRCDIR/tests/schema-check.py" "$SCHEMA" probes/*.yaml \
	>schema.out 2>&1
ok "! grep -q 'cannot use the schema' schema.out" "the schema can be used"

accepted=0
refused=0
while read -r id field value; do
	schema=$(sed -n "s|^probes/$id.yaml: ||p" schema.out | cut -c1-2)
	"$JOBRUN" validate "probes/$id.yaml" >/dev/null 2>"probes/$id.err"
	status=$?
	case "$status:$schema" in
	0:ok) accepted=$((accepted + 1)) ; verdict=same ;;
	125:in) refused=$((refused + 1)) ; verdict=same ;;
	*) verdict="jobrun $status, schema $(sed -n "s|^probes/$id.yaml: ||p" schema.out); jobrun: $(cat "probes/$id.err")" ;;
	esac
	is "$verdict" same "$field: $value: both agree"
done <probes/probes.txt

# Probes on both sides, so agreement is not both refusing everything.
ok "[ $accepted -ge 100 ]" "both accept many probes ($accepted)"
ok "[ $refused -ge 300 ]" "both refuse many probes ($refused)"
is "$(grep -c ': ok$' schema.out)" "$accepted" \
	"the schema accepts exactly the probes jobrun accepts"

# What validate accepts, run reads the same way: the settings the other
# configuration layers may override are stored in their plain form.
printf 'timeout: 0x10\nsecrets: {min_length: 0o20}\nsteps: [{name: a, run: x}]\n' >typed.yaml
run "$JOBRUN" config --explain typed.yaml
contains out "timeout             16s" "a plain 0x10 timeout is 16 seconds"
contains out "secret_min_length   16" "and 0o20 is 16"
done_testing

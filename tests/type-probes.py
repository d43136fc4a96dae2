#!/usr/bin/python3
"""Writes probe job files for tests/t/0019-type-probes.sh.

    python3 tests/type-probes.py DIR

Each probe puts one value (written as YAML text) into one typed field of an
otherwise valid job file: DIR/NNNN.yaml, and a line "NNNN FIELD VALUE" in
DIR/probes.txt.  The values cover integers (signs, leading zeros, octal,
hexadecimal, quoted, out of range, floats), durations (every unit at and
past its bounds, parts in and out of order, bare and quoted numbers) and
booleans (every YAML spelling), plus null and collections for each.
"""

import os
import sys

# field name -> (template with {v}, kind); each template is a whole job.
STEP = "steps:\n  - name: a\n    run: x\n"
FIELDS = {
    "version": ("version: {v}\n" + STEP, "int"),
    "secrets.min_length": ("secrets:\n  min_length: {v}\n" + STEP, "int"),
    "source.depth": ("source:\n  type: none\n  depth: {v}\n" + STEP, "int"),
    "plugins.priority": (
        "plugins:\n  - path: /p.so\n    priority: {v}\n" + STEP,
        "int",
    ),
    "steps.retries": (STEP + "    retries: {v}\n", "int"),
    "triggers.priority": (
        STEP + "triggers:\n  - job: next\n    priority: {v}\n",
        "int",
    ),
    "timeout": ("timeout: {v}\n" + STEP, "duration"),
    "steps.timeout": (STEP + "    timeout: {v}\n", "duration"),
    "source.timeout": (
        "source:\n  type: none\n  timeout: {v}\n" + STEP,
        "duration",
    ),
    "triggers.timeout": (
        STEP + "triggers:\n  - job: next\n    timeout: {v}\n",
        "duration",
    ),
    "trusted": ("trusted: {v}\n" + STEP, "bool"),
    "steps.trusted": (STEP + "    trusted: {v}\n", "bool"),
    "steps.continue_on_error": (STEP + "    continue_on_error: {v}\n", "bool"),
    "source.submodules": (
        "source:\n  type: none\n  submodules: {v}\n" + STEP,
        "bool",
    ),
}

ANY = ["~", "null", "Null", "NULL", "", "[]", "[1]", "{}", "{a: 1}"]

INTS = [
    "0", "1", "-1", "+1", "+0", "-0", "007", "010", "0o7", "0o17", "0o8",
    "0o", "0x1", "0x1F", "0x1f", "0xg", "0X1", "0x", "0b1", "1_000", "2",
    "3", "4", "100", "101", "4096", "4097", "10000", "10001", "-10000",
    "-10001", "1000000", "1000001", "0x64", "0x65", "+100", "-100",
    "99999999999999999999", "-99999999999999999999",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "1.0", "1.", "1e3", ".inf", "-.inf", ".nan", "'3'", '"3"', "'1'",
    '"1"', "'0x1'", "three", "true", "yes", "1 # a comment",
]

UNITS = [("d", 366), ("h", 8784), ("m", 527040), ("s", 31622400),
         ("ms", 31622400000)]
DURATIONS = ["1", "0", "45", "31622400", "31622401", "+10", "-5", "0x10",
             "0o10", "010", "'45'", '"45"', "'0x10'", "'+10'", "''", "1.5",
             "1.5h", "10 m", "10M", "1H", "1h 30m", "h", "1hm", "true",
             "1h30m", "1h90m", "90m", "1d23h59m59s999ms", "365d23h",
             "366d1ms", "30m1h", "1h1h", "1m60s", "1m59s", "1s999ms",
             "1s1000ms", "1d24h", "1d23h", "0d1h", "0d0h", "1d30m",
             "1m500ms", "10mss", "007m", "'1h30m'", '"366d"', '"367d"']
for unit, limit in UNITS:
    DURATIONS += ["1" + unit, "0" + unit, str(limit) + unit,
                  str(limit + 1) + unit, "00" + str(limit) + unit]

BOOLS = ["true", "True", "TRUE", "false", "False", "FALSE", "tRUE", "yes",
         "no", "Yes", "on", "off", "y", "n", "1", "0", "'true'", '"false"',
         "!!bool true"]

VALUES = {"int": INTS + ANY, "duration": DURATIONS + ANY, "bool": BOOLS + ANY}


def main(argv):
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    n = 0
    with open(os.path.join(out, "probes.txt"), "w") as index:
        for field, (template, kind) in FIELDS.items():
            for value in VALUES[kind]:
                n += 1
                name = "%04d" % n
                with open(os.path.join(out, name + ".yaml"), "w") as f:
                    f.write(template.format(v=value))
                index.write("%s %s %s\n" % (name, field, value))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

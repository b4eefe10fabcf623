#!/usr/bin/env python3
"""JUnit XML from the output of `cargo test`, and a one-line count of what it ran.

CI runs the README's own test command (`cargo test --workspace`) rather than another runner, so
its report comes from libtest's console output: one <testsuite> per test binary ("Running ..."
or "Doc-tests ..."), one <testcase> per "test NAME ... ok|FAILED|ignored" line, and a failing
test's captured output (its "---- NAME stdout ----" block) as the failure's text.

    .ci/junit.py LOG OUT.xml     # prints "N tests: P passed, F failed, S skipped"
"""

import re
import sys
import xml.etree.ElementTree as ET

SUITE = re.compile(r"^\s+(?:Running (?:unittests )?(\S+)(?: \(\S*?([^/]+?)(?:-[0-9a-f]+)?\))?|Doc-tests (\S+))")
CASE = re.compile(r"^test (.+?) \.\.\. (ok|FAILED|ignored)\b")
OUTPUT = re.compile(r"^---- (.+?) stdout ----$")
RESULT = re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored")


def parse(lines):
    suites, outputs = [], {}
    current, capturing = None, None
    for line in lines:
        line = line.rstrip("\n")
        if m := SUITE.match(line):
            if m.group(1):
                name = f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1)
            else:
                name = f"doctests {m.group(3)}"
            current = {"name": name, "cases": []}
            suites.append(current)
            capturing = None
        elif m := OUTPUT.match(line):
            capturing = (current["name"] if current else "", m.group(1))
            outputs[capturing] = []
        elif line in ("failures:", "successes:") or RESULT.match(line):
            capturing = None
        elif capturing is not None:
            outputs[capturing].append(line)
        elif current is not None and (m := CASE.match(line)):
            current["cases"].append((m.group(1), m.group(2)))
    return suites, outputs


def main():
    log, out = sys.argv[1], sys.argv[2]
    with open(log, encoding="utf-8", errors="replace") as f:
        suites, outputs = parse(f)
    root = ET.Element("testsuites", name="cargo test")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for suite in suites:
        if not suite["cases"]:
            continue
        failures = sum(1 for _, r in suite["cases"] if r == "FAILED")
        skipped = sum(1 for _, r in suite["cases"] if r == "ignored")
        element = ET.SubElement(
            root,
            "testsuite",
            name=suite["name"],
            tests=str(len(suite["cases"])),
            failures=str(failures),
            skipped=str(skipped),
        )
        for name, result in suite["cases"]:
            case = ET.SubElement(element, "testcase", classname=suite["name"], name=name)
            if result == "FAILED":
                text = "\n".join(outputs.get((suite["name"], name), []))
                ET.SubElement(case, "failure", message=f"{name} failed").text = text
            elif result == "ignored":
                ET.SubElement(case, "skipped")
        totals["tests"] += len(suite["cases"])
        totals["failures"] += failures
        totals["skipped"] += skipped
    for key, value in totals.items():
        root.set(key, str(value))
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    n, failed, skipped = totals["tests"], totals["failures"], totals["skipped"]
    print(f"{n} tests: {n - failed - skipped} passed, {failed} failed, {skipped} skipped")


if __name__ == "__main__":
    main()

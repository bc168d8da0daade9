#!/usr/bin/env python3
"""Counts test cases from meson's own results and prints the totals line CI reads.

usage: test_results.py [--failure TEXT]... LOG [LOG...]

Each LOG is a meson testlog (meson-logs/testlog.json, or testlog-<setup>.json for a test setup);
its JUnit twin (testlog[-<setup>].junit.xml) holds the test cases meson read from each program's
TAP. A program's cases count one each (passed, failed, skipped: a skip is never a pass). A
program that failed beyond its cases (it crashed, timed out, or exited non-zero after every case
passed: a sanitizer or leak report at exit) counts one more failure. A program without cases
(exit-code tests) counts as one case. --failure adds a failure that happened outside meson (a
build that failed). Prints each failure by name, then `N passed, N failed[, N skipped]`; exits 1
when anything failed or nothing ran.
"""
import argparse
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

GOOD = {"OK", "EXPECTEDFAIL"}


def junit_cases(junit_path):
    """{meson test name: [(case name, 'pass'|'fail'|'skip'), ...]} for tests with cases."""
    cases = {}
    if not os.path.exists(junit_path):
        return cases
    for suite in ET.parse(junit_path).getroot().iter("testsuite"):
        name = suite.get("name", "")
        test = name.split(".", 1)[1] if "." in name else name  # "<project>.<test name>"
        for case in suite.iter("testcase"):
            if case.find("skipped") is not None:
                outcome = "skip"
            elif case.find("failure") is not None or case.find("error") is not None:
                outcome = "fail"
            else:
                outcome = "pass"
            label = re.sub(r"^\d+ - ", "", case.get("name", ""))
            cases.setdefault(test, []).append((label, outcome))
    return cases


def where(log_path):
    """'py3.15' or 'asan-py3.15 (asan)': the build directory, and the setup when there is one."""
    build = os.path.basename(os.path.dirname(os.path.dirname(os.path.abspath(log_path))))
    setup = re.match(r"testlog-(.+)\.json$", os.path.basename(log_path))
    return build + (" (%s)" % setup.group(1) if setup else "")


def why(test):
    """How a program failed beyond its cases, from its meson record."""
    result, status = test.get("result"), test.get("returncode")
    crashed = re.search(r"^Bail out! (.*)$", test.get("stdout") or "", re.M)
    if crashed:
        return crashed.group(1)
    if result == "TIMEOUT":
        return "timed out"
    if status is not None and status < 0:
        return "killed by signal %d" % -status
    return "%s, exit status %s" % (result.lower(), status)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--failure", action="append", default=[])
    parser.add_argument("logs", nargs="*")
    args = parser.parse_args()
    passed = failed = skipped = 0
    failures = list(args.failure)
    for log in args.logs:
        place = where(log)
        if not os.path.exists(log):
            failed += 1
            failures.append("%s: no meson test results (%s)" % (place, log))
            continue
        cases = junit_cases(re.sub(r"\.json$", ".junit.xml", log))
        with open(log) as f:
            tests = [json.loads(line) for line in f if line.strip()]
        for test in tests:
            name, result = test["name"], test["result"]
            mine = cases.get(name)
            if mine:
                for label, outcome in mine:
                    if outcome == "pass":
                        passed += 1
                    elif outcome == "skip":
                        skipped += 1
                    else:
                        failed += 1
                        crashed = "Bail out! %s crashed" % label in (test.get("stdout") or "")
                        failures.append("%s %s: %s%s" % (place, name, label,
                                                         " (crashed)" if crashed else ""))
                if result not in GOOD and result != "SKIP" and all(o != "fail" for _, o in mine):
                    failed += 1
                    failures.append("%s %s: %s after its cases" % (place, name, why(test)))
            elif result in GOOD:
                passed += 1
            elif result == "SKIP":
                skipped += 1
                print("skipped: %s %s" % (place, name))
            else:
                failed += 1
                failures.append("%s %s: %s" % (place, name, why(test)))
    failed += len(args.failure)
    if failures:
        print("failures:")
        for line in failures:
            print("  FAILED: " + line)
    total = "%d passed, %d failed" % (passed, failed)
    print(total + (", %d skipped" % skipped if skipped else ""))
    return 0 if failed == 0 and passed + skipped > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

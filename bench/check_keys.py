"""Checks that a benchmark's JSON holds the figures bench/required_keys.txt lists for it, and the
context every program's JSON carries (the file's "(every program)" list: keys of the "context"
object bench/context.py adds), each spread [min, max] around its figure, and at least
MIN_ROUNDS rounds in a full run.

usage: check_keys.py KEYS_FILE BENCH_NAME JSON_FILE   prints nothing and exits 0 when it does,
                                                       else prints why not and exits 1
       check_keys.py KEYS_FILE --names                 prints the programs the file lists
"""
import itertools
import json
import math
import re
import sys

SHOWN = 8  # missing keys named in full; the rest are counted
EVERY = "(every program)"  # the name of the list of context keys in KEYS_FILE
MIN_ROUNDS = 5  # of a full run: the medians and spreads the published figures come from


def expand(pattern):
    """Bash's brace expansion, without nesting: "a.{b,c}" -> ["a.b", "a.c"]."""
    parts = re.split(r"\{([^{}]*)\}", pattern)
    # Even indices are literal text, odd ones the alternatives between braces.
    choices = [[p] if k % 2 == 0 else p.split(",") for k, p in enumerate(parts)]
    return ["".join(c) for c in itertools.product(*choices)]


def read_keys(path):
    """{bench name: [key, ...]} in the file's order."""
    out, name = {}, None
    with open(path) as f:
        for number, line in enumerate(f, 1):
            text = line.split("#", 1)[0].rstrip()
            if not text:
                continue
            if not text[0].isspace():
                if not text.endswith(":"):
                    sys.exit(f"{path}:{number}: expected 'NAME:'")
                name = text[:-1]
                out[name] = []
            elif name is None:
                sys.exit(f"{path}:{number}: keys before a 'NAME:' line")
            else:
                out[name] += [key for word in text.split() for key in expand(word)]
    return out


def context_problem(context_keys, figures):
    """Why the context, spread or rounds of `figures` fall short, or None."""
    context = figures.get("context")
    if not isinstance(context, dict):
        return "no context (bench/context.py adds it)"
    missing = [k for k in context_keys if context.get(k) is None]
    if missing:
        return "context without " + ", ".join(missing)
    spread = figures.get("spread", {})
    wrong = [k for k, v in spread.items()
             if not (isinstance(v, list) and len(v) == 2 and k in figures
                     and v[0] <= figures[k] * (1 + 1e-5) and figures[k] <= v[1] * (1 + 1e-5))]
    if wrong:
        return "spread not [min, max] around its figure: " + ", ".join(wrong[:SHOWN])
    if context["mode"] == "full" and (context.get("rounds") or 0) < MIN_ROUNDS:
        return f"{context.get('rounds')} rounds in a full run, fewer than {MIN_ROUNDS}"
    return None


def problem(required, context_keys, json_path):
    """Why the figures in json_path miss `required` or their context, or None."""
    try:
        with open(json_path) as f:
            figures = json.load(f)
    except FileNotFoundError:
        return "no JSON written"
    except ValueError as e:
        return f"unreadable JSON ({e})"
    missing = [k for k in required if k not in figures]
    if missing:
        more = f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
        return "missing keys " + ", ".join(missing[:SHOWN]) + more
    bad = [k for k in required if isinstance(figures[k], bool)
           or not isinstance(figures[k], (int, float)) or not math.isfinite(figures[k])]
    if bad:
        return "not a finite number: " + ", ".join(bad)
    return context_problem(context_keys, figures)


def main():
    if len(sys.argv) == 3 and sys.argv[2] == "--names":
        print("\n".join(name for name in read_keys(sys.argv[1]) if name != EVERY))
        return 0
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    keys_path, name, json_path = sys.argv[1:]
    lists = read_keys(keys_path)
    required = lists.get(name)
    why = (f"no keys listed for it in {keys_path}" if required is None
           else problem(required, lists.get(EVERY, []), json_path))
    if why:
        print(why)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

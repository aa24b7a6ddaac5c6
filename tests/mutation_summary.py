"""Per-module kill rate and surviving mutants of the last `mutmut run` (what `make mutation` prints).

python -m tests.mutation_summary [MODULE ...]    # e.g. model.sas; default: every module that was mutated

Reads mutmut's own result files (mutants/<path>.meta). Exit 1 when a module killed less than TARGET of its mutants.
"""

import json
import sys
from collections import Counter
from pathlib import Path

TARGET = 0.90
KILLED = {1, 3, 36, -24, 24, 152, 255}  # mutmut's "killed" and "timeout" exit codes (its score counts both)
SURVIVED = 0


ROOT = Path("mutants/azext_hsmbackup")


def path_of(module):
    """model.sas -> model/sas.py, below the package."""
    return module.replace(".", "/") + ".py"


def results(module):
    meta = ROOT / f"{path_of(module)}.meta"
    return json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}


def diff(mutant, module):
    """The changed lines of one mutant (what `mutmut show` prints, without starting a process per mutant)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    text = get_diff_for_mutant(mutant, path=Path("azext_hsmbackup") / path_of(module))
    return [line for line in text.splitlines() if line[:2] in ("- ", "+ ")]


def main(modules):
    metas = ROOT.rglob("*.py.meta")
    modules = modules or sorted(str(p.relative_to(ROOT))[: -len(".py.meta")].replace("/", ".") for p in metas)
    failed = []
    print(f"{'module':<22}{'mutants':>8}{'killed':>8}{'survived':>9}{'no test':>8}{'rate':>8}")
    survivors = {}
    for module in modules:
        codes = {name: code for name, code in results(module).items() if code is not None}
        counts = Counter(
            "killed" if c in KILLED else "survived" if c == SURVIVED else "no test" for c in codes.values()
        )
        rate = counts["killed"] / len(codes) if codes else 0.0
        print(
            f"{module:<22}{len(codes):>8}{counts['killed']:>8}{counts['survived']:>9}{counts['no test']:>8}{rate:>8.1%}"
        )
        survivors[module] = sorted(name for name, code in codes.items() if code not in KILLED)
        if rate < TARGET:
            failed.append(module)
    for module, names in survivors.items():
        for name in names:
            print(f"\n{name}")
            for line in diff(name, module):
                print(f"    {line}")
    if failed:
        print(f"\nBelow the {TARGET:.0%} target: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

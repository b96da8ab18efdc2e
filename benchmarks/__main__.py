"""Run the core benchmarks: `python -m benchmarks` (all) or `python -m benchmarks validation store`."""

import importlib
import sys

CORE = ["validation", "store", "proxy", "fleet"]


def main(argv: list[str]) -> int:
    names = argv or CORE
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"\n=== {name} ===", flush=True)
        module.main([])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

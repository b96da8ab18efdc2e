"""The `ocpp-inspector` console entry point: the core's CLI with the window plugged in.

The UI depends on the core, never the reverse, so the core's `main()` is handed the way to
open the window. Qt is imported only when the window is asked for, so headless verbs stay
light.
"""

from __future__ import annotations

import sys


def open_gui(*, smoke_test: bool = False, launch: dict | None = None) -> int:
    try:
        from ui.app import run_gui
    except ImportError as exc:
        print(f"ocpp-inspector: error: the desktop application is not available: {exc}",
              file=sys.stderr)
        return 1
    return run_gui(smoke_test=smoke_test, launch=launch)


def main(argv: list[str] | None = None) -> int:
    from inspector.cli import main as cli_main
    return cli_main(argv, open_gui=open_gui)


if __name__ == "__main__":
    sys.exit(main())

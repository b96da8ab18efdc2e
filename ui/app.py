"""Entry point of the desktop application: Qt and asyncio on one loop (qasync)."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
import tempfile
import time
from pathlib import Path

APP_NAME = "OCPP Inspector"
ORGANISATION = "OCPP Inspector"
ORGANISATION_DOMAIN = "ocpp-inspector.org"
ICON_RELATIVE = Path("ui") / "icon.png"
SMOKE_SECONDS = 1.5  # how long `--smoke-test` keeps the event loop running
SMOKE_TIMEOUT = 30.0  # a smoke test that has not finished by then failed


def icon_path() -> Path | None:
    """The application icon, shipped as package data beside this module (a PyInstaller
    bundle keeps it at `<_MEIPASS>/ui/icon.png`); None if absent."""
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / ICON_RELATIVE)
    candidates.append(Path(__file__).resolve().parent.parent / ICON_RELATIVE)
    for candidate in candidates:
        try:
            if candidate.is_file():
                return candidate
        except OSError:
            continue
    return None


def app_icon():
    """The application icon as a QIcon (a null icon when the file is missing or unreadable)."""
    from PySide6.QtGui import QIcon

    path = icon_path()
    return QIcon(str(path)) if path is not None else QIcon()


def create_application(argv: list[str] | None = None):
    """The QApplication (reused if one exists), named so QSettings has a stable place."""
    from PySide6.QtWidgets import QApplication

    from .compat import install_refcount_guard

    install_refcount_guard()
    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(ORGANISATION)
    app.setOrganizationDomain(ORGANISATION_DOMAIN)
    import inspector
    app.setApplicationVersion(inspector.__version__)
    app.setStyle("Fusion")
    icon = app_icon()
    if not icon.isNull():
        app.setWindowIcon(icon)
    return app


def _report_unexpected_errors(window, loop) -> None:
    """A bug in a slot or a callback becomes one line in the window; the traceback is logged."""
    log = logging.getLogger("ui")

    def show(text: str) -> None:
        try:
            window.report_error(f"Unexpected error: {text}")
        except RuntimeError:  # the window is gone
            pass

    def excepthook(kind, value, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        log.error("unexpected error", exc_info=(kind, value, tb))
        show(f"{kind.__name__}: {value}")

    def loop_errors(_loop, context) -> None:
        exc = context.get("exception")
        log.error("event loop: %s", context.get("message"), exc_info=exc)
        if exc is not None and not isinstance(exc, (ConnectionError, asyncio.CancelledError)):
            show(f"{type(exc).__name__}: {exc}")

    sys.excepthook = excepthook
    loop.set_exception_handler(loop_errors)


def _print_line(text: str, stream) -> None:
    """Print one line even on a console whose encoding cannot show every character."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    stream.write(text.encode(encoding, errors="replace").decode(encoding) + "\n")
    stream.flush()


async def _smoke_test(window) -> str | None:
    """What `--smoke-test` checks inside the running window; returns a failure or None.

    The window is shown, a fake CSMS is started on 127.0.0.1:0 and stopped again through the
    panel (the same code path as the Start/Stop buttons), and the loop runs ~1.5 s.
    """
    began = time.monotonic()
    await asyncio.sleep(0.2)  # let the window be laid out and painted
    if not window.isVisible():
        return "the main window is not visible"
    csms = window.roles.csms
    csms.listen.setText("127.0.0.1:0")
    csms.start()
    deadline = time.monotonic() + 10
    while not csms.running:
        if window.errors:
            return window.errors[0]
        if time.monotonic() > deadline:
            return "the fake CSMS did not start within 10 s"
        await asyncio.sleep(0.05)
    if not csms.url.text().startswith("ws://127.0.0.1:"):
        return f"unexpected fake CSMS URL {csms.url.text()!r}"
    await asyncio.sleep(max(0.0, SMOKE_SECONDS - (time.monotonic() - began)))
    await csms.shutdown()
    if csms.running:
        return "the fake CSMS did not stop"
    if window.errors:
        return window.errors[0]
    return None


def run_gui(argv: list[str] | None = None, *, smoke_test: bool = False,
            launch: dict | None = None) -> int:
    """Open the main window and run until it is closed; returns the exit code.

    With `smoke_test` (used by `ocpp-inspector gui --smoke-test` to check an install or a
    bundle): show the window, start and stop a fake CSMS on 127.0.0.1:0, run the event loop
    ~1.5 s, print `GUI started: OCPP Inspector <version>, window "<title>"`, close and return 0; on a
    failure print it to stderr and return 1. Settings and the capture go to a temporary
    folder, so a smoke test leaves nothing behind.

    `launch` (from `ocpp-inspector gui --csms/--proxy/--charger/--view/--db`) names roles to
    start and the view to show once the window is up.
    """
    try:
        import qasync
        from PySide6.QtCore import QSettings, QTimer
    except ImportError as exc:
        print(f"ocpp-inspector: error: the desktop application needs PySide6 and qasync ({exc})",
              file=sys.stderr)
        return 1

    from .mainwindow import MainWindow

    app = create_application(argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    scratch = None
    if smoke_test:
        scratch = tempfile.TemporaryDirectory(prefix="ocpp-inspector-smoke-",
                                              ignore_cleanup_errors=True)
        folder = Path(scratch.name)
        window = MainWindow(loop, settings=QSettings(str(folder / "settings.ini"),
                                                     QSettings.Format.IniFormat),
                            capture_path=folder / "capture.db")
    else:
        window = MainWindow(loop, capture_path=(launch or {}).get("db"))
    # Everything built so far (Qt wrappers, pyqtgraph, schemas) lives as long as the app:
    # keep it out of the cyclic GC's full collections, which otherwise stall the UI.
    gc.collect()
    gc.freeze()
    # the roles' thread waits at most this long for the interpreter while the window's
    # thread runs Python (default 5 ms): answers to chargers are not held up by painting,
    # which draws from Python in short C++ calls (ui/plot_canvas.py)
    sys.setswitchinterval(0.0005)
    _report_unexpected_errors(window, loop)
    done = loop.create_future()

    def finished() -> None:
        if not done.done():
            done.set_result(0)
    window.finished.connect(finished)
    app.setQuitOnLastWindowClosed(False)  # we quit once roles are stopped, not before

    def interrupt(*_args) -> None:
        window.close()
    try:
        loop.add_signal_handler(signal.SIGINT, interrupt)
        loop.add_signal_handler(signal.SIGTERM, interrupt)
    except (NotImplementedError, RuntimeError, ValueError):  # Windows
        signal.signal(signal.SIGINT, lambda *_: QTimer.singleShot(0, interrupt))
    window.show()
    if launch and not smoke_test:
        from .launch import apply_launch
        window.spawn(apply_launch(window, launch), "start from the command line")
    outcome: dict = {}
    if smoke_test:
        async def smoke() -> None:
            try:
                outcome["failure"] = await _smoke_test(window)
                outcome["title"] = window.windowTitle()
            except Exception as exc:  # noqa: BLE001 - reported as the smoke test's failure
                outcome["failure"] = f"{type(exc).__name__}: {exc}"
            finally:
                window.close()  # stops roles, closes the capture, then `done` resolves

        def too_slow() -> None:
            if not outcome.get("failure"):
                outcome["failure"] = f"did not finish within {SMOKE_TIMEOUT:g} s"
            if not done.done():
                done.set_result(1)
        smoke_task = loop.create_task(smoke())  # noqa: F841 - kept alive until the loop ends
        QTimer.singleShot(int(SMOKE_TIMEOUT * 1000), too_slow)
    try:
        with loop:
            code = int(loop.run_until_complete(done) or 0)
    except KeyboardInterrupt:
        return 130
    finally:
        if scratch is not None:
            scratch.cleanup()
    if not smoke_test:
        return code
    import inspector
    if outcome.get("failure") or code:
        _print_line(f"ocpp-inspector: GUI smoke test failed: "
                    f"{outcome.get('failure') or f'exit code {code}'}", sys.stderr)
        return code or 1
    _print_line(f"GUI started: OCPP Inspector {inspector.__version__}, "
                f"window \"{outcome['title']}\"", sys.stdout)
    return 0

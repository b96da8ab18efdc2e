"""Entry point of the desktop application: Qt and asyncio on one loop (qasync)."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys

APP_NAME = "OCPP Inspector"
ORGANISATION = "OCPP Inspector"
ORGANISATION_DOMAIN = "ocpp-inspector.org"


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


def run_gui(argv: list[str] | None = None) -> int:
    """Open the main window and run until it is closed; returns the exit code."""
    try:
        import qasync
        from PySide6.QtCore import QTimer
    except ImportError as exc:
        print(f"ocpp-inspector: error: the desktop application needs PySide6 and qasync ({exc})",
              file=sys.stderr)
        return 1

    from .mainwindow import MainWindow

    app = create_application(argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = MainWindow(loop)
    # Everything built so far (Qt wrappers, pyqtgraph, schemas) lives as long as the app:
    # keep it out of the cyclic GC's full collections, which otherwise stall the UI.
    gc.collect()
    gc.freeze()
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
    try:
        with loop:
            return int(loop.run_until_complete(done) or 0)
    except KeyboardInterrupt:
        return 130

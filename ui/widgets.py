"""Small widgets and helpers shared by the role panels, the Suites tab and the window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

ERROR_STYLE = "color: #b00020;"
HINT_STYLE = "color: #666;"


def describe(exc: BaseException) -> str:
    """One readable line for an exception (no traceback)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    return text if text else type(exc).__name__


def error_label(name: str) -> QLabel:
    """A red, selectable, word-wrapped error line, hidden until there is something to say."""
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet(ERROR_STYLE)
    label.hide()
    return label


def hint_label(text: str = "") -> QLabel:
    """A grey, word-wrapped explanation under a field."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(HINT_STYLE)
    return label


def ask_path(parent, settings, folder_key: str, title: str, start: str, name_filter: str,
             callback, *, save: bool, default_suffix: str | None = None,
             several: bool = False) -> QFileDialog:
    """A non-modal open/save dialog that remembers the chosen file's folder under `folder_key`
    (`several`: open one or more files; the callback gets a list).

    Non-modal (`open()`, not `exec()`) so the asyncio loop keeps running while it is shown.
    """
    dialog = QFileDialog(parent, title, start, name_filter)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave if save
                         else QFileDialog.AcceptMode.AcceptOpen)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile if save else
                       QFileDialog.FileMode.ExistingFiles if several else
                       QFileDialog.FileMode.ExistingFile)
    if default_suffix:
        dialog.setDefaultSuffix(default_suffix)

    def chosen(path: str) -> None:
        settings.setValue(folder_key, str(Path(path).parent))
        callback(path)

    def chosen_several(paths: list) -> None:
        if paths:
            settings.setValue(folder_key, str(Path(paths[0]).parent))
            callback(list(paths))
    if several:
        dialog.filesSelected.connect(chosen_several)
    else:
        dialog.fileSelected.connect(chosen)
    dialog.open()
    return dialog


class UrlBox(QWidget):
    """A read-only, selectable URL with a Copy button."""

    def __init__(self, placeholder: str, parent=None):
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setReadOnly(True)
        self.edit.setPlaceholderText(placeholder)
        self.copy = QPushButton("Copy")
        self.copy.setToolTip("copy the URL to the clipboard")
        self.copy.setEnabled(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.copy)
        self.copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.edit.text()))

    def set_url(self, url: str) -> None:
        self.edit.setText(url)
        self.edit.setCursorPosition(0)
        self.copy.setEnabled(bool(url))

    def text(self) -> str:
        return self.edit.text()


class ScriptField(QWidget):
    """An optional scenario script (inspector.scripting): a path and Browse…; `load()` gives
    the loaded script or None, raising ValueError (ScriptError) with the file's line."""

    def __init__(self, settings, key: str, kind: str, placeholder: str, parent=None):
        super().__init__(parent)
        self.settings, self.key, self.kind = settings, key, kind
        self.edit = QLineEdit(settings.value(key, ""))
        self.edit.setObjectName(key.replace("/", "_"))
        self.edit.setPlaceholderText(placeholder)
        self.edit.setToolTip("a Python scenario script (README, Scripts; examples/scripts)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(browse)
        self._dialog = None

    def text(self) -> str:
        return self.edit.text().strip()

    def load(self):
        from inspector.scripting import load_script
        return load_script(Path(self.text()).expanduser(), kind=self.kind) if self.text() else None

    def save(self) -> None:
        self.settings.setValue(self.key, self.edit.text())

    def _browse(self) -> None:
        self._dialog = ask_path(self, self.settings, "folders/scripts", "Scenario script",
                                self.settings.value("folders/scripts", ""),
                                "Python scripts (*.py);;All files (*)", self.edit.setText,
                                save=False)

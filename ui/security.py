"""The "Security" group of each role tab: TLS files and HTTP Basic auth passwords.

The group is checkable: unchecked, it is collapsed and nothing in it is used; checked, its
certificates, keys and CAs (OCPP security profiles 2 and 3) and its password (profiles 1
and 2) apply the next time the role starts. File paths are remembered in QSettings;
passwords never are (they live only in the field until the window closes).

TLS files are checked before a role starts, so a missing file, a key that does not match
its certificate or a file that is not PEM is one readable line (`inspector.tls.TlsError`)
instead of a failed handshake later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QFileDialog, QFormLayout, QFrame, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

from inspector.tls import ClientTls, ServerTls

SECURITY_NOTE = ("Passwords, Authorization headers and private keys are never written to "
                 "captures, exports or reports.")
PEM_FILTER = "PEM files (*.pem *.crt *.cer *.key);;All files (*)"


@dataclass(frozen=True)
class FileSpec:
    name: str  # settings key and attribute suffix
    label: str
    tooltip: str = ""


@dataclass(frozen=True)
class Heading:
    text: str


class FileField(QWidget):
    """A path to a PEM file, typed or picked with Browse…."""

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.title = title
        self.edit = QLineEdit()
        self.edit.setClearButtonEnabled(True)
        self.edit.setPlaceholderText("none")
        self.browse = QPushButton("…")
        self.browse.setToolTip(f"choose the {title.lower()} file")
        self.browse.setFixedWidth(30)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse)
        self.browse.clicked.connect(self._browse)
        self.dialog: QFileDialog | None = None

    def _browse(self) -> None:
        current = self.edit.text().strip()
        folder = str(Path(current).parent) if current else str(Path.home())
        self.dialog = dialog = QFileDialog(self, self.title, folder, PEM_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.edit.setText)
        dialog.open()

    def text(self) -> str:
        return self.edit.text()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt naming, like QLineEdit
        self.edit.setText(text)

    def path(self) -> str | None:
        return self.edit.text().strip() or None


class SecurityGroup(QWidget):
    """A "Security" check box that unfolds TLS files (and optionally a password)."""

    def __init__(self, settings, key: str, items, *, password_label: str | None = None,
                 password_tip: str = "", title: str = "Security (TLS, password)", parent=None):
        super().__init__(parent)
        self.settings = settings
        self.key = key
        self.setObjectName(f"{key}Security")
        self.toggle = QCheckBox(title)
        self.toggle.setObjectName(f"{key}SecurityToggle")
        self.toggle.setToolTip("check to use TLS certificates (wss://) and/or HTTP Basic auth; "
                               "unchecked, nothing here is used")
        self.body = QFrame()
        self.body.setObjectName(f"{key}SecurityBody")
        self.body.setFrameShape(QFrame.Shape.StyledPanel)
        form = QFormLayout(self.body)
        form.setContentsMargins(8, 6, 8, 6)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.files: dict[str, FileField] = {}
        for item in items:
            if isinstance(item, Heading):
                heading = QLabel(item.text)
                heading.setStyleSheet("color: #444; font-weight: 600;")
                form.addRow(heading)
                continue
            field = FileField(item.label.rstrip(":"))
            field.setObjectName(f"{key}Tls_{item.name}")
            field.edit.setObjectName(f"{key}Tls_{item.name}Edit")
            field.setToolTip(item.tooltip)
            field.setText(str(settings.value(f"{key}/security/{item.name}", "")))
            form.addRow(item.label, field)
            self.files[item.name] = field
        self.password_edit: QLineEdit | None = None
        if password_label:
            edit = QLineEdit()
            edit.setObjectName(f"{key}Password")
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setPlaceholderText("none (not saved)")
            edit.setToolTip(password_tip + " Never saved to the settings.")
            form.addRow(password_label, edit)
            self.password_edit = edit
        self.note = QLabel(SECURITY_NOTE)
        self.note.setObjectName(f"{key}SecurityNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #666; font-size: 11px;")
        form.addRow(self.note)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        box.addWidget(self.toggle)
        box.addWidget(self.body)
        self.toggled = self.toggle.toggled
        self.toggle.toggled.connect(self.body.setVisible)
        self.setChecked(str(settings.value(f"{key}/security/enabled", "false")).lower() == "true")
        self.body.setVisible(self.isChecked())

    def isChecked(self) -> bool:  # noqa: N802 - like QGroupBox's
        return self.toggle.isChecked()

    def setChecked(self, on: bool) -> None:  # noqa: N802
        self.toggle.setChecked(on)

    # ---- values --------------------------------------------------------------------------

    def path(self, name: str) -> str | None:
        """The file set for `name` (None when blank or the group is off); ValueError if missing."""
        if not self.isChecked():
            return None
        field = self.files[name]
        path = field.path()
        if path is not None and not Path(path).expanduser().is_file():
            # named here: the ssl module does not say which of certificate and key is missing
            raise ValueError(f"Security: {field.title.lower()} file not found: {path}")
        return str(Path(path).expanduser()) if path is not None else None

    def password(self) -> str | None:
        """The password to send or require; None when empty or the group is off."""
        if self.password_edit is None or not self.isChecked():
            return None
        return self.password_edit.text() or None

    def server_tls(self, cert: str = "cert", key: str = "key",
                   client_ca: str = "client_ca") -> ServerTls | None:
        """A checked ServerTls (or None: plain ws://); ValueError/TlsError, readable."""
        cert_path, key_path, ca_path = self.path(cert), self.path(key), self.path(client_ca)
        if not (cert_path or key_path or ca_path):
            return None
        if not (cert_path and key_path):
            raise ValueError("Security: a wss:// listener needs both a certificate and its "
                             "private key")
        tls = ServerTls(cert_path, key_path, ca_path)
        tls.context()  # raises TlsError naming the file
        return tls

    def client_tls(self, ca: str = "ca", cert: str = "cert", key: str = "key") -> ClientTls | None:
        """A checked ClientTls (or None: the system trust store, no client certificate)."""
        ca_path, cert_path, key_path = self.path(ca), self.path(cert), self.path(key)
        if not (ca_path or cert_path or key_path):
            return None
        if bool(cert_path) != bool(key_path):
            raise ValueError("Security: a client certificate needs both the certificate and its "
                             "private key")
        tls = ClientTls(ca_path, cert_path, key_path)
        tls.context()
        return tls

    def save_settings(self) -> None:
        self.settings.setValue(f"{self.key}/security/enabled",
                               "true" if self.isChecked() else "false")
        for name, field in self.files.items():
            self.settings.setValue(f"{self.key}/security/{name}", field.text())
        # passwords: never


SERVER_FILES = (
    FileSpec("cert", "Certificate:", "server certificate (PEM): chargers connect with wss://"),
    FileSpec("key", "Private key:", "private key of the certificate (PEM)"),
    FileSpec("client_ca", "Client CA:", "require client certificates signed by this CA "
             "(security profile 3); blank: no client certificate needed"),
)
CLIENT_FILES = (
    FileSpec("ca", "CA:", "CA that signed the CSMS certificate (PEM); blank: the system's "
             "trust store"),
    FileSpec("cert", "Client certificate:", "client certificate (security profile 3)"),
    FileSpec("key", "Client key:", "private key of the client certificate"),
)
PROXY_FILES = (
    Heading("Chargers → proxy (wss:// listener)"),
    *SERVER_FILES,
    Heading("Proxy → CSMS (wss:// upstream)"),
    FileSpec("upstream_ca", "CA:", "CA that signed the CSMS certificate; blank: system trust"),
    FileSpec("upstream_cert", "Client certificate:", "the proxy's client certificate towards "
             "the CSMS (profile 3)"),
    FileSpec("upstream_key", "Client key:", "private key of that client certificate"),
)


def server_security(settings, key: str) -> SecurityGroup:
    """Fake CSMS: certificate, key, client CA and a password every charger must send."""
    return SecurityGroup(settings, key, SERVER_FILES, password_label="Require password:",
                         password_tip="HTTP Basic auth password every charge point must send "
                         "(user = its charge point id); blank: none required.")


def client_security(settings, key: str) -> SecurityGroup:
    """Fake charger / fleet: CA, client certificate and key, and the password to send."""
    return SecurityGroup(settings, key, CLIENT_FILES, password_label="Password:",
                         password_tip="HTTP Basic auth password sent with the charge point id "
                         "as user (security profiles 1 and 2).")


def proxy_security(settings) -> SecurityGroup:
    """Proxy: TLS on both sides; chargers' Authorization headers are passed through."""
    return SecurityGroup(settings, "proxy", PROXY_FILES, title="Security (TLS)")


def check_tls_url(url: str, tls) -> None:
    """Refuse TLS files with a ws:// URL before anything connects."""
    if tls is not None and not url.strip().lower().startswith("wss://"):
        raise ValueError(f"Security: TLS files are set but {url} is not a wss:// URL")

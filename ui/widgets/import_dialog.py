"""Import the directory or slots from the desk: file, kind, progress, report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.naming import named

KINDS = (
    ("effecteurs", "Annuaire des effecteurs (CSV)"),
    ("slots", "Créneaux (CSV, agenda iCalendar .ics, Bundle FHIR .json)"),
    ("ror", "CPTS et zones d'intervention du ROR (Bundle FHIR .json, export NDJSON)"),
    ("rpps", "Annuaire national RPPS de l'ANS (PS_LibreAcces .zip ou .txt)"),
)


class ImportDialog(QDialog):
    import_requested = Signal(str, str, str, bool)  # path, kind, rpps, strict

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Importer dans l'annuaire")
        self.kind = named(QComboBox(), "importKind")
        for value, text in KINDS:
            self.kind.addItem(text, value)
        self.path = named(QLineEdit(), "importPath")
        browse = QPushButton("Parcourir…")
        browse.clicked.connect(self.browse)
        self.rpps = named(QLineEdit(), "importRpps")
        self.rpps.setPlaceholderText("RPPS du médecin (agenda .ics seulement)")
        self.strict = named(
            QCheckBox("Tout ou rien (une ligne rejetée annule l'import)"), "importStrict"
        )
        self.progress = named(QProgressBar(), "importProgress")
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.status = named(QLabel(""), "importStatus")
        self.status.setWordWrap(True)
        self.report = named(QPlainTextEdit(), "importReport")
        self.report.setReadOnly(True)
        self.start = named(QPushButton("Importer"), "importStart")
        self.start.clicked.connect(self.request)
        close = QPushButton("Fermer")
        close.clicked.connect(self.close)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("&Type", self.kind)
        file_label = QLabel("&Fichier")  # a row of two widgets: the label needs its buddy
        file_label.setBuddy(self.path)
        form.addRow(file_label, row)
        form.addRow("&RPPS", self.rpps)
        form.addRow(self.strict)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.start)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.report, 1)
        layout.addLayout(buttons)
        self.resize(720, 520)

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Fichier à importer",
            "",
            "Annuaire, créneaux, ROR ou RPPS (*.csv *.ics *.json *.ndjson *.zip *.txt)",
        )
        if path:
            self.path.setText(path)

    def request(self) -> None:
        path = Path(self.path.text().strip())
        if not path.is_file():
            self.status.setText("Choisissez un fichier existant.")
            return
        self.start.setEnabled(False)
        self.report.clear()
        self.progress.setValue(0)
        self.import_requested.emit(
            str(path), self.kind.currentData(), self.rpps.text().strip(), self.strict.isChecked()
        )

    def uploading(self, sent: int, total: int) -> None:
        self.progress.setValue(int(90 * sent / total) if total else 90)
        self.status.setText(f"Envoi du fichier : {sent // 1024} / {max(1, total // 1024)} Kio")

    def importing(self) -> None:
        self.progress.setValue(90)
        self.status.setText("Import en cours sur le hub…")

    def hub_progress(self, done: int, total: int) -> None:
        """The hub's import, as it goes: the bar's last tenth, after the upload's 90 %."""
        if total <= 0:
            return
        share = min(done, total) / total
        self.progress.setValue(90 + min(9, int(10 * share)))
        self.status.setText(f"Import en cours sur le hub : {round(100 * share)} %")

    def show_report(self, report: dict[str, Any]) -> None:
        self.progress.setValue(100)
        self.start.setEnabled(True)
        self.status.setText(
            report["summary"]
            + (f" — encodage {report['encoding']}" if report.get("encoding") else "")
        )
        lines = [f"Source : {report['source']}", report["summary"]]
        if report.get("deactivated"):
            lines.append(
                f"{report['deactivated']} praticien(s) absent(s) du fichier national : "
                "désactivé(s), jamais supprimé(s)"
            )
        if report.get("rejected"):
            lines.append("\nLignes rejetées :")
            lines += [f"  {r['where']} : {r['why']}" for r in report["rejected"]]
        if report.get("warnings"):
            lines.append("\nAvertissements :")
            lines += [f"  {r['where']} : {r['why']}" for r in report["warnings"]]
        if report.get("skipped"):
            lines.append("\nNon importé (par choix) :")
            lines += [f"  {r['where']} : {r['why']}" for r in report["skipped"]]
        self.report.setPlainText("\n".join(lines))

    def failed(self, message: str) -> None:
        self.start.setEnabled(True)
        self.progress.setValue(0)
        self.status.setText(f"Échec : {message} — rien n'a été modifié.")

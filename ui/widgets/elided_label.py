"""A one-line label that may be narrower than its text: it draws "…" at the end and shows
the whole text as its tooltip, so a narrow screen cuts nothing silently."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolTip, QWidget


class ElidedLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None, *, shortest: int = 60):
        super().__init__(text, parent)
        self.shortest = shortest
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def is_elided(self) -> bool:
        width = self.contentsRect().width()
        return self.fontMetrics().horizontalAdvance(self.text()) > width

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        hint = super().minimumSizeHint()
        return QSize(min(self.shortest, hint.width()), hint.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        if not self.is_elided():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        vertical = self.alignment() & ~Qt.AlignmentFlag.AlignHorizontal_Mask
        align = vertical | Qt.AlignmentFlag.AlignLeft  # the start of the text, then "…"
        self.style().drawItemText(
            painter, rect, int(align), self.palette(), self.isEnabled(), text, self.foregroundRole()
        )

    def event(self, event: QEvent) -> bool:
        """The whole text as tooltip when it is cut (a tooltip set by the owner wins)."""
        if event.type() == QEvent.Type.ToolTip and not self.toolTip() and self.is_elided():
            QToolTip.showText(event.globalPos(), self.text(), self)  # type: ignore[attr-defined]
            return True
        return super().event(event)

"""How a desk looks on the screens of the room, per user: the window opens maximised,
the arrangement of the docks (one may float on a second screen) and the window's place
are saved and restored, the text size follows Ctrl+plus / Ctrl+minus (Ctrl+0: back to
normal), and a night theme is switched from the menu "Affichage". Saved in QSettings
under the user's name (the desk's own settings file, see platformdirs for its folder)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QRect, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QFont, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDockWidget,
    QMainWindow,
    QScrollArea,
    QWidget,
)

from app.resources import resource
from ui import palette
from ui.column_fit import fit_all

NIGHT_STYLE = resource("style", "night.qss")
TEXT_SIZES = (8, 20)  # points


class DownScroll(QScrollArea):
    """Scrolls down only: as wide as its content needs, as short as the screen allows."""

    def __init__(self, content: QWidget):
        super().__init__()
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(content)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        content = self.widget()
        width = content.minimumSizeHint().width() if content is not None else 0
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(width + bar, 4 * self.fontMetrics().height())


def apply_theme(app: QApplication, night: bool) -> None:
    """The whole application's look, day or night: every window and dialog, open or to
    come (login, wizard, statistics, import, audit, dossier lists), follows it."""
    if app.property("sasdeskDayStyle") is None:  # the day sheet, before any night
        app.setProperty("sasdeskDayStyle", app.styleSheet())
    palette.current = palette.NIGHT if night else palette.DAY
    sheet = NIGHT_STYLE.read_text(encoding="utf-8") if night else ""
    sheet = sheet.replace("@STYLE@", NIGHT_STYLE.parent.as_posix())  # its arrow images
    day = str(app.property("sasdeskDayStyle"))
    app.setStyleSheet(day + ("\n" + sheet if sheet else ""))


def desk_settings() -> QSettings:
    return QSettings("sasdesk", "desk-view")


#: The theme the desk was last left in, whoever used it: what opens before anyone logs in
#: (the login dialog, the set-up wizard) follows it, not the day's glare at 3 a.m.
LAST_NIGHT = "desk/night"


def apply_last_theme(app: QApplication, settings: QSettings | None = None) -> bool:
    night = str((settings or desk_settings()).value(LAST_NIGHT, "false")).lower() == "true"
    apply_theme(app, night)
    return night


class RoomView(QObject):
    def __init__(self, window: QMainWindow, username: str, settings: QSettings | None = None):
        super().__init__(window)
        self.w = window
        self.settings = settings or desk_settings()
        self.prefix = f"users/{username}/"
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        self.app = app
        self.default_points = max(app.font().pointSize(), 9)
        if app.property("sasdeskDayStyle") is None:  # the day sheet, before any night
            app.setProperty("sasdeskDayStyle", app.styleSheet())
        self.day_style = str(app.property("sasdeskDayStyle"))
        for dock in window.findChildren(QDockWidget):
            dock.setFeatures(dock.features() | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                             | QDockWidget.DockWidgetFeature.DockWidgetMovable)  # fmt: skip
        self.fitters = fit_all(window.findChildren(QAbstractItemView))
        menu = window.menuBar().addMenu("&Affichage")
        self.night_action = QAction("Thème de nuit", window, checkable=True)
        self.night_action.setObjectName("action_night")
        self.night_action.toggled.connect(self.set_night)
        menu.addAction(self.night_action)
        for name, keys, text, step in (
            ("bigger", QKeySequence.StandardKey.ZoomIn, "Agrandir le texte", 1),
            ("smaller", QKeySequence.StandardKey.ZoomOut, "Réduire le texte", -1),
            ("normal", "Ctrl+0", "Taille de texte normale", 0),
        ):
            action = QAction(text, window)
            action.setObjectName(f"action_text_{name}")
            action.setShortcut(QKeySequence(keys))
            if name == "bigger":  # Ctrl+= too: "+" needs Shift on most keyboards
                action.setShortcuts([QKeySequence(keys), QKeySequence("Ctrl+=")])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda _=False, s=step: self.step_text(s))
            window.addAction(action)
            menu.addAction(action)
        menu.addSeparator()
        for dock in window.findChildren(QDockWidget):  # a closed panel comes back from here
            toggle = dock.toggleViewAction()
            toggle.setObjectName(f"action_show_{dock.objectName()}")
            menu.addAction(toggle)
        menu.addSeparator()
        reset = QAction("Disposition par défaut des panneaux", window)
        reset.triggered.connect(self.forget_layout)
        menu.addAction(reset)
        self._narrow_screen_layout()
        self.default_state = window.saveState()
        self.restore()
        closing = getattr(window, "closing", None)
        if closing is not None:
            closing.connect(self.save)

    def _narrow_screen_layout(self) -> None:
        """Below 1600 px the call-back dock shares the bottom with the slot search (tabs)
        instead of taking a column the dossier needs."""
        if self.w.screen().availableGeometry().width() >= 1600:
            supervision = self.w.findChild(QDockWidget, "supervisionDock")
            if supervision is not None:  # a wide screen: the room's view gets a quarter
                width = int(self.w.screen().availableGeometry().width() * 0.25)
                self.w.resizeDocks([supervision], [width], Qt.Orientation.Horizontal)
            return
        search = self.w.findChild(QDockWidget, "searchDock")
        callback = self.w.findChild(QDockWidget, "callbackDock")
        if search is not None and self.w.findChild(QDockWidget, "supervisionDock") is not None:
            # The supervisor watches the room first: the slot search keeps its least height.
            self.w.resizeDocks([search], [search.minimumSizeHint().height()],
                               Qt.Orientation.Vertical)  # fmt: skip
        if search is not None and callback is not None:
            # What shares the call-back dock's tabs (the OSNP's timeline) follows it down:
            # the lists and the dossier keep the whole width.
            followers = self.w.tabifiedDockWidgets(callback)
            for dock in (callback, *followers):
                self.w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
                self.w.tabifyDockWidget(search, dock)
            callback.raise_()
            height = self.w.screen().availableGeometry().height()
            self.w.resizeDocks([search], [int(height * 0.45)], Qt.Orientation.Vertical)
            panel = getattr(self.w, "search_panel", None)
            if panel is not None:  # Ctrl+F brings the slots to the front
                panel.search_requested.connect(lambda *_: search.raise_())

    # -- text size ----------------------------------------------------------------------

    @property
    def points(self) -> int:
        return self.app.font().pointSize()

    def set_points(self, points: int) -> None:
        points = min(max(points, TEXT_SIZES[0]), TEXT_SIZES[1])
        font = QFont(self.app.font())
        font.setPointSize(points)
        self.app.setFont(font)
        self._widget_points(points)
        self.settings.setValue(self.prefix + "text_points", points)
        if self.fit_height():  # moved into a scroll area: its style sheet came back
            self._widget_points(points)

    def _widget_points(self, points: int) -> None:
        for widget in self.w.findChildren(QObject):  # widgets given a font of their own
            if hasattr(widget, "setFont") and hasattr(widget, "font"):
                f = widget.font()
                if f.pointSize() != points:
                    f.setPointSize(points)
                    widget.setFont(f)

    def fit_height(self) -> bool:
        """When the text grows past what the screen holds (Ctrl+plus on a 768-pixel
        screen), the central area scrolls down rather than push the window below the
        screen; it never scrolls sideways. At the normal size nothing scrolls."""
        central = self.w.centralWidget()
        screen = self.w.screen().availableGeometry()
        if central is None or isinstance(central, DownScroll):
            return False
        if self.w.minimumSizeHint().height() > screen.height():
            self.w.setCentralWidget(DownScroll(central))
            bottom = [
                d
                for d in self.w.findChildren(QDockWidget)
                if self.w.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea
                and not d.isFloating()
            ]
            if bottom:  # the dossier and its decision keep what height there is
                self.w.resizeDocks(bottom[:1], [bottom[0].minimumSizeHint().height()],
                                   Qt.Orientation.Vertical)  # fmt: skip
            return True
        return False

    def step_text(self, step: int) -> None:
        self.set_points(self.default_points if step == 0 else self.points + step)

    # -- night theme ---------------------------------------------------------------------

    def set_night(self, on: bool) -> None:
        apply_theme(self.app, on)
        self.settings.setValue(LAST_NIGHT, on)
        if self.night_action.isChecked() != on:
            self.night_action.setChecked(on)
        for view in self.w.findChildren(QObject):
            viewport = getattr(view, "viewport", None)
            if callable(viewport):
                viewport().update()  # priority cells repaint with the theme's colours
        self.settings.setValue(self.prefix + "night", on)

    # -- arrangement ---------------------------------------------------------------------

    def restore(self) -> None:
        s, p = self.settings, self.prefix
        geometry, state = s.value(p + "geometry"), s.value(p + "state")
        if geometry is not None:  # on the screen it was on, if the room still has it
            self.w.restoreGeometry(geometry)
        # That screen whole (the first time: the primary), also where no window manager
        # maximises: a restored geometry alone leaves room for a frame there isn't.
        screen = QGuiApplication.screenAt(self.w.geometry().center()) or self.w.screen()
        self.w.setGeometry(screen.availableGeometry())
        if state is not None:
            self.w.restoreState(state)
            self._dock_the_stranded()
        points = s.value(p + "text_points")
        if points is not None:
            self.set_points(int(points))
        # Also back to day: the login may have been shown in the last user's night.
        self.set_night(str(s.value(p + "night", "false")).lower() == "true")
        self.w.setWindowState(self.w.windowState() | Qt.WindowState.WindowMaximized)

    def _dock_the_stranded(self) -> None:
        """A panel that floated on a screen the desk no longer has (the room's second
            monitor unplugged) comes back docked in the window, where the one-screen layout
            has room for it, rather than piled over the dossier and the other panels, and in
        front of the panels it is tabbed with (the appointment board would hide it)."""
        stranded = []
        for dock in self.w.findChildren(QDockWidget):
            place = self.settings.value(f"{self.prefix}floating/{dock.objectName()}")
            if isinstance(place, QRect) and QGuiApplication.screenAt(place.center()) is None:
                if dock.isFloating():
                    dock.setFloating(False)
                stranded.append(dock)

        # They were in sight on their screen: in front of the panels they are tabbed with,
        # once the window is shown (Qt applies a restored state's tabs when it lays out).
        def to_front() -> None:
            for dock in stranded:
                dock.raise_()

        QTimer.singleShot(0, to_front)

    def save(self) -> None:
        self.settings.setValue(self.prefix + "geometry", self.w.saveGeometry())
        self.settings.setValue(self.prefix + "state", self.w.saveState())
        for dock in self.w.findChildren(QDockWidget):  # where each floating panel was
            key = f"{self.prefix}floating/{dock.objectName()}"
            if dock.isFloating():
                self.settings.setValue(key, dock.geometry())
            else:
                self.settings.remove(key)
        self.settings.sync()

    def forget_layout(self) -> None:
        self.w.restoreState(self.default_state)
        for dock in self.w.findChildren(QDockWidget):
            dock.setFloating(False)
        self.save()

"""Widgets of the main window: the results list (model adapter + delegate), the frame viewer, the per-class
score bars and the video timeline. All of them only read the Qt-free :class:`~artifactscope.gui.session.Session`.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (QBrush, QColor, QFont, QFontMetrics, QIcon, QImage, QPainter, QPen, QPixmap,
                           QTransform)
from PySide6.QtWidgets import (QGraphicsPixmapItem, QGraphicsRectItem, QGraphicsScene, QGraphicsSimpleTextItem,
                               QGraphicsView, QListView, QSizePolicy, QStyle, QStyledItemDelegate, QWidget)

from artifactscope.artifacts import ARTIFACTS, CLEAN, CLEAN_COLOR, color_of, get as get_artifact
from artifactscope.gui.session import Entry, Session

THUMB_W, THUMB_H = 112, 63
ROW_H = THUMB_H + 12
ERROR_COLOR = "#c0392b"
LABELLED_COLOR = "#1e8449"

EntryRole = Qt.ItemDataRole.UserRole + 1


def title_of(label: str) -> str:
    return "clean" if label == CLEAN else get_artifact(label).title


def text_color_on(bg: QColor) -> QColor:
    """Black or white, whichever reads better on `bg`."""
    lum = 0.299 * bg.red() + 0.587 * bg.green() + 0.114 * bg.blue()
    return QColor("#111111") if lum > 150 else QColor("#ffffff")


def draw_badge(p: QPainter, x: int, y: int, text: str, color: str, font: QFont) -> int:
    """A rounded label in `color`; returns its width."""
    fm = QFontMetrics(font)
    w = fm.horizontalAdvance(text) + 12
    h = fm.height() + 4
    bg = QColor(color)
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(bg)
    p.drawRoundedRect(QRectF(x, y, w, h), 4, 4)
    p.setPen(text_color_on(bg))
    p.setFont(font)
    p.drawText(QRect(x, y, w, h), Qt.AlignmentFlag.AlignCenter, text)
    p.restore()
    return w


def color_icon(color: str, size: int = 12) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(QColor(color))
    return QIcon(pm)


def frame_caption(r) -> str:
    if r.frame is None:
        return os.path.dirname(r.path)
    t = f" · {r.time_s:.2f} s" if r.time_s is not None else ""
    return f"frame {r.frame}{t}"


# ----------------------------------------------------------------------------------------------------------
# Results list


def row_badges(session: Session, entry: Entry) -> list[tuple[str, str]]:
    """The badges a list row shows, left to right, as ``(text, colour)``: the verdict under the current
    threshold (``clean`` or the artifact's name in its colour) or ``unreadable``, then the tester's label."""
    if entry.error is not None:
        return [("unreadable", ERROR_COLOR)]
    label, flagged = session.verdict(entry)
    badges = [(title_of(label), color_of(label)) if flagged else ("clean", CLEAN_COLOR)]
    user = session.user_label(entry)
    if user is not None:
        badges.append((f"✓ labelled {title_of(user)}", LABELLED_COLOR))
    return badges


class ResultsListModel(QAbstractListModel):
    """A thin adapter: rows are ``session.visible``; it resets when the session's rows change."""

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        session.subscribe(self._on_session)

    def _on_session(self, event: str) -> None:
        if event == "rows":
            self.beginResetModel()
            self.endResetModel()
        elif self.rowCount():
            self.dataChanged.emit(self.index(0), self.index(self.rowCount() - 1))

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.session.visible)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.session.visible):
            return None
        e = self.session.entry_at(index.row())
        if role == EntryRole:
            return e
        if role == Qt.ItemDataRole.DisplayRole:
            return e.name
        if role == Qt.ItemDataRole.ToolTipRole:
            r = e.result
            if r.error:
                return f"{r.path}\nCould not be read: {r.error}"
            label, _ = self.session.verdict(e)
            where = frame_caption(r) + "\n" if r.frame is not None else ""
            return f"{r.path}\n{where}{title_of(label)}  score {r.score:.3f}"
        if role == Qt.ItemDataRole.SizeHintRole:
            return QSize(300, ROW_H)
        return None


class ResultDelegate(QStyledItemDelegate):
    """Paints a row: thumbnail, file name, caption, verdict badge, score, and the tester's label."""

    def __init__(self, session: Session, cache, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.cache = cache

    def sizeHint(self, option, index) -> QSize:
        return QSize(300, ROW_H)

    def paint(self, p: QPainter, option, index) -> None:
        e: Entry = index.data(EntryRole)
        if e is None:
            return
        r = e.result
        rect = option.rect
        p.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            p.fillRect(rect, option.palette.highlight())
        elif index.row() % 2:
            p.fillRect(rect, option.palette.alternateBase())
        text_pen = option.palette.highlightedText().color() if selected else option.palette.text().color()

        # Thumbnail (requested lazily: only rows being painted ask for one).
        tr = QRect(rect.left() + 6, rect.top() + 6, THUMB_W, THUMB_H)
        p.fillRect(tr, QColor("#2b2b2b"))
        if r.error is not None:
            p.fillRect(tr, QColor("#5a1e1e"))
            f = QFont(option.font)
            f.setPointSizeF(f.pointSizeF() * 1.8)
            f.setBold(True)
            p.setFont(f)
            p.setPen(QColor("#ffb3b3"))
            p.drawText(tr, Qt.AlignmentFlag.AlignCenter, "!")
        else:
            img = self.cache.get((r.path, r.frame, (THUMB_W, THUMB_H)))
            if img is not None:
                x = tr.left() + (THUMB_W - img.width()) // 2
                y = tr.top() + (THUMB_H - img.height()) // 2
                p.drawImage(x, y, img)
            else:
                p.setPen(QColor("#888888"))
                p.setFont(option.font)
                p.drawText(tr, Qt.AlignmentFlag.AlignCenter, "…")
            label, flagged = self.session.verdict(e)
            if flagged:  # a coloured frame around flagged thumbnails: visible at a glance while scrolling
                p.setPen(QPen(QColor(color_of(label)), 3))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(tr.adjusted(1, 1, -2, -2))

        x0 = tr.right() + 10
        right = rect.right() - 8
        bold = QFont(option.font)
        bold.setBold(True)
        small = QFont(option.font)
        small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.9))
        fm = QFontMetrics(bold)

        # Score, right-aligned on the first line.
        score_w = 0
        if r.error is None and r.score is not None:
            score_txt = f"{r.score:.2f}"
            score_w = fm.horizontalAdvance("0.00") + 4
            # Bold when the score flags the frame; grey when it does not (a class threshold above it).
            flagged = self.session.is_flagged(e)
            p.setFont(bold if flagged else option.font)
            p.setPen(text_pen if flagged or selected else option.palette.placeholderText().color())
            p.drawText(QRect(right - score_w, rect.top() + 6, score_w, fm.height()),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, score_txt)

        # Name.
        p.setFont(bold)
        p.setPen(text_pen)
        name_w = right - score_w - 6 - x0
        p.drawText(QRect(x0, rect.top() + 6, name_w, fm.height()), Qt.AlignmentFlag.AlignVCenter,
                   fm.elidedText(e.name, Qt.TextElideMode.ElideMiddle, name_w))

        # Caption (frame/time, folder, or the error).
        sfm = QFontMetrics(small)
        p.setFont(small)
        y2 = rect.top() + 8 + fm.height()
        if r.error is not None:
            p.setPen(QColor("#ffdddd") if selected else QColor(ERROR_COLOR))
            caption = r.error
        else:
            p.setPen(text_pen if selected else option.palette.placeholderText().color())
            caption = frame_caption(r)
        p.drawText(QRect(x0, y2, right - x0, sfm.height()), Qt.AlignmentFlag.AlignVCenter,
                   sfm.elidedText(caption, Qt.TextElideMode.ElideLeft if r.frame is None and r.error is None
                                  else Qt.TextElideMode.ElideRight, right - x0))

        # Badges: verdict (or error) and the tester's label.
        y3 = y2 + sfm.height() + 5
        bx = x0
        for text, color in row_badges(self.session, e):
            bx += draw_badge(p, bx, y3, text, color, small) + 6
        p.restore()


class ResultsView(QListView):
    """The virtualised list (uniform rows: only visible rows are laid out and painted)."""

    activatedEntry = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setUniformItemSizes(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.setMinimumWidth(300)
        self.empty_text = "Drop screenshots, folders or videos here\n\nor use File ▸ Open files / Open folder"

    def setModel(self, model) -> None:
        super().setModel(model)
        # Results stream in as model resets; keep the user's scroll position across them.
        model.modelAboutToBeReset.connect(self._save_scroll)
        model.modelReset.connect(self._restore_scroll)

    def _save_scroll(self) -> None:
        self._scroll = self.verticalScrollBar().value()

    def _restore_scroll(self) -> None:
        value = getattr(self, "_scroll", 0)
        if value:
            self.doItemsLayout()
            self.verticalScrollBar().setValue(value)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.model() is not None and self.model().rowCount() == 0:
            p = QPainter(self.viewport())
            p.setPen(self.palette().placeholderText().color())
            p.drawText(self.viewport().rect().adjusted(12, 12, -12, -12),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.empty_text)


# ----------------------------------------------------------------------------------------------------------
# Viewer


class FrameView(QGraphicsView):
    """The frame with wheel zoom (around the cursor), drag to pan, and an overlay: the artifact's heatmap
    (translucent, red to yellow) under its region outlines. One switch shows or hides both."""

    zoomChanged = Signal(float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setBackgroundBrush(QBrush(QColor("#1e1e1e")))
        self.setMinimumSize(320, 200)
        self._pixmap = QGraphicsPixmapItem()
        self._pixmap.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._pixmap)
        self._heat = QGraphicsPixmapItem()
        self._heat.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._heat.setZValue(5)
        self._heat.setVisible(False)
        self.scene().addItem(self._heat)
        self._heat_image: QImage | None = None
        self._overlay: list = []
        self._regions: list = []
        self.overlay_visible = True
        self._fit = True
        self._frame_size: tuple[int, int] | None = None
        self.message = "No frame selected"

    # image --------------------------------------------------------------------------------------------------
    def set_image(self, image: QImage | None, frame_size: tuple[int, int] | None = None,
                  keep_view: bool = False) -> None:
        """Show `image`; `frame_size` (w, h) is the original frame's size (a thumbnail is scaled up to it)."""
        if image is None:
            self._pixmap.setPixmap(QPixmap())
            self._frame_size = None
            self.scene().setSceneRect(QRectF())
            self._draw_overlay()
            self.viewport().update()
            return
        pm = QPixmap.fromImage(image)
        w, h = frame_size or (image.width(), image.height())
        self._pixmap.setPixmap(pm)
        self._pixmap.setScale(w / max(1, image.width()))
        self._frame_size = (w, h)
        self.scene().setSceneRect(QRectF(0, 0, w, h))
        self._draw_overlay()
        if not keep_view or self._fit:
            self.fit()

    def has_image(self) -> bool:
        return self._frame_size is not None

    # overlay ------------------------------------------------------------------------------------------------
    def set_regions(self, regions) -> None:
        """Regions: objects with ``label``, ``score`` and ``box`` = (x0, y0, x1, y1) in frame pixels."""
        self._regions = list(regions or [])
        self._draw_overlay()

    def set_overlay_visible(self, on: bool) -> None:
        self.overlay_visible = bool(on)
        self._draw_overlay()

    def set_heatmap(self, image: QImage | None) -> None:
        """A translucent image covering the whole frame (any resolution; stretched to the frame), or None."""
        self._heat_image = image
        self._draw_overlay()

    def overlay_items(self) -> list:
        """The region outlines and captions drawn now (empty while the overlay is hidden)."""
        return list(self._overlay)

    def heatmap_shown(self) -> bool:
        """Whether a heatmap is drawn over the frame now."""
        return self._heat.isVisible() and not self._heat.pixmap().isNull()

    def _draw_heat(self) -> None:
        img = self._heat_image
        if img is None or img.isNull() or not self.overlay_visible or self._frame_size is None:
            self._heat.setVisible(False)
            return
        w, h = self._frame_size
        self._heat.setPixmap(QPixmap.fromImage(img))
        self._heat.setTransform(QTransform.fromScale(w / max(1, img.width()), h / max(1, img.height())))
        self._heat.setVisible(True)

    def _draw_overlay(self) -> None:
        for item in self._overlay:
            self.scene().removeItem(item)
        self._overlay = []
        self._draw_heat()
        if not self.overlay_visible or self._frame_size is None:
            return
        for reg in self._regions:
            x0, y0, x1, y1 = (float(v) for v in reg.box)
            color = QColor(color_of(reg.label))
            pen = QPen(color, 2.5)
            pen.setCosmetic(True)  # same thickness at every zoom
            rect = QGraphicsRectItem(QRectF(x0, y0, max(1.0, x1 - x0), max(1.0, y1 - y0)))
            rect.setPen(pen)
            fill = QColor(color)
            fill.setAlpha(40)
            rect.setBrush(fill)
            rect.setZValue(10)
            self.scene().addItem(rect)
            text = QGraphicsSimpleTextItem(f"{title_of(reg.label)} {float(reg.score):.2f}")
            text.setBrush(QBrush(text_color_on(color)))
            f = text.font()
            f.setBold(True)
            text.setFont(f)
            text.setFlag(QGraphicsSimpleTextItem.GraphicsItemFlag.ItemIgnoresTransformations)
            tb = text.boundingRect()
            bg = QGraphicsRectItem(QRectF(-3, -1, tb.width() + 6, tb.height() + 2), text)
            bg.setBrush(color)
            bg.setPen(Qt.PenStyle.NoPen)
            bg.setFlag(QGraphicsRectItem.GraphicsItemFlag.ItemStacksBehindParent)
            text.setPos(QPointF(x0, y0))
            text.setZValue(11)
            self.scene().addItem(text)
            self._overlay += [rect, text]

    # zoom / pan ---------------------------------------------------------------------------------------------
    def fit(self) -> None:
        self._fit = True
        if self._frame_size is not None:
            self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
            self.zoomChanged.emit(self.transform().m11())

    def zoom_by(self, factor: float) -> None:
        current = self.transform().m11()
        target = max(0.02, min(64.0, current * factor))
        self._fit = False
        self.scale(target / current, target / current)
        self.zoomChanged.emit(self.transform().m11())

    def actual_size(self) -> None:
        self._fit = False
        self.resetTransform()
        self.zoomChanged.emit(1.0)

    def wheelEvent(self, event) -> None:
        if self._frame_size is None:
            return
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.25 ** steps)
        event.accept()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit:
            self.fit()

    def drawForeground(self, painter: QPainter, rect) -> None:
        if self._frame_size is None and self.message:
            painter.save()
            painter.resetTransform()
            painter.setPen(QColor("#9a9a9a"))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self.message)
            painter.restore()


class ScoreBars(QWidget):
    """Per-class scores as a small horizontal bar chart, strongest first, with the threshold marked."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.scores: dict[str, float] = {}
        self.threshold: float | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumHeight(self.sizeHint().height())

    def set_scores(self, scores: dict[str, float] | None, threshold: float | None = None) -> None:
        self.scores = dict(scores or {})
        self.threshold = threshold
        self.update()

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(320, len(ARTIFACTS) * (fm.height() + 3) + 6)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = self.fontMetrics()
        row_h = fm.height() + 3
        label_w = max(fm.horizontalAdvance(a.title) for a in ARTIFACTS) + 8
        value_w = fm.horizontalAdvance("0.000") + 6
        bar_x = label_w
        bar_w = max(20, self.width() - label_w - value_w - 4)
        names = [a.name for a in ARTIFACTS]
        if self.scores:
            names.sort(key=lambda n: -self.scores.get(n, 0.0))
        for i, name in enumerate(names):
            y = 3 + i * row_h
            v = float(self.scores.get(name, 0.0))
            p.setPen(self.palette().text().color())
            p.drawText(QRect(0, y, label_w - 6, row_h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       get_artifact(name).title)
            track = QRectF(bar_x, y + 3, bar_w, row_h - 6)
            p.fillRect(track, self.palette().alternateBase())
            if self.scores:
                p.fillRect(QRectF(bar_x, y + 3, bar_w * max(0.0, min(1.0, v)), row_h - 6), QColor(color_of(name)))
                p.setPen(self.palette().text().color())
                p.drawText(QRect(int(bar_x + bar_w + 4), y, value_w, row_h),
                           Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"{v:.3f}")
        if self.threshold is not None and self.scores:
            x = bar_x + bar_w * self.threshold
            pen = QPen(self.palette().text().color(), 1, Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawLine(QPointF(x, 1), QPointF(x, 3 + len(names) * row_h))
        if not self.scores:
            p.setPen(self.palette().placeholderText().color())
            p.drawText(QRect(bar_x, 0, bar_w, self.height()), Qt.AlignmentFlag.AlignCenter, "no scores")


class Timeline(QWidget):
    """A strip over a video's sampled frames: flagged events (runs of flagged frames, as the reports group
    them) as spans in their artifact's colour with a marker above each, unreadable frames in red, the current
    frame marked. Clicking jumps to the nearest sampled frame (``frameClicked(entry)``); clicking an event's
    marker jumps to its most suspicious frame."""

    frameClicked = Signal(object)

    def __init__(self, session: Session, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.entries: list[Entry] = []
        self.events: list = []
        self.current: Entry | None = None
        self.setMinimumHeight(60)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def sizeHint(self) -> QSize:
        return QSize(400, 60)

    def set_video(self, entries: list[Entry], current: Entry | None, events=()) -> None:
        """Show one video's sampled frames (in frame order), its events
        (:class:`artifactscope.events.Event`) and the current frame."""
        self.entries = entries
        self.events = list(events)
        self.current = current
        self.update()

    def event_at_x(self, x: float, slack: float = 4.0):
        """The event whose span (or marker) covers `x`, or None."""
        for ev in self.events:
            x0, x1 = self._event_span(ev)
            if x0 - slack <= x <= x1 + slack:
                return ev
        return None

    def _event_span(self, ev) -> tuple[float, float]:
        w = self._tick_w()
        return self._x(ev.start_frame) - w / 2, self._x(ev.end_frame) + w / 2

    def _tick_w(self) -> float:
        if len(self.entries) > 1:  # one sampling step wide, so adjacent flagged samples join
            step = min(b.result.frame - a.result.frame for a, b in zip(self.entries, self.entries[1:])) or 1
        else:
            step = 1
        return max(3.0, (self.width() - 12) * step / self._span())

    def _span(self) -> int:
        return max(1, max((e.result.frame for e in self.entries), default=0))

    def _x(self, frame: int) -> float:
        return 6 + (self.width() - 12) * frame / self._span()

    def entry_at_x(self, x: float) -> Entry | None:
        if not self.entries:
            return None
        frame = (x - 6) / max(1, self.width() - 12) * self._span()
        return min(self.entries, key=lambda e: abs(e.result.frame - frame))

    def mousePressEvent(self, event) -> None:
        x, y = event.position().x(), event.position().y()
        ev = self.event_at_x(x) if y < self._track().top() else None
        if ev is not None and ev.peak_frame is not None:  # the marker above an event: its peak frame
            e = next((e for e in self.entries if e.result.frame == ev.peak_frame), None)
        else:
            e = self.entry_at_x(x)
        if e is not None:
            self.frameClicked.emit(e)

    def _track(self) -> QRectF:
        return QRectF(6, 14, self.width() - 12, self.height() - 33)

    def mouseMoveEvent(self, event) -> None:
        e = self.entry_at_x(event.position().x())
        if e is not None:
            label, flagged = self.session.verdict(e)
            t = f" ({e.result.time_s:.2f} s)" if e.result.time_s is not None else ""
            what = "unreadable" if e.error else (title_of(label) if flagged else "clean")
            tip = f"frame {e.result.frame}{t}: {what}"
            ev = self.event_at_x(event.position().x())
            if ev is not None:
                tip += (f"\nevent: {title_of(ev.label)}, frames {ev.start_frame}-{ev.end_frame}, "
                        f"peak {ev.peak_score:.2f} at frame {ev.peak_frame}")
            self.setToolTip(tip)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        track = self._track()
        p.fillRect(self.rect(), self.palette().window())
        p.fillRect(track, QColor("#3a3a3a"))
        if not self.entries:
            return
        span = self._span()
        w = self._tick_w()
        # Sampled frames: a small tick each; unreadable ones in red over the whole height.
        for e in self.entries:
            x = self._x(e.result.frame)
            if e.error is not None:
                p.fillRect(QRectF(x - w / 2, track.top(), w, track.height()), QColor(ERROR_COLOR))
            else:
                p.fillRect(QRectF(x - 0.5, track.bottom() - 4, 1.0, 4), QColor("#8a8a8a"))
        # Events: spans in the artifact's colour, flagged samples inside drawn full height, a marker above.
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for ev in self.events:
            color = QColor(color_of(ev.label))
            x0, x1 = self._event_span(ev)
            band = QColor(color)
            band.setAlpha(110)
            p.fillRect(QRectF(x0, track.top() + track.height() * 0.3, x1 - x0, track.height() * 0.4), band)
            for e in self.entries:
                f = e.result.frame
                if ev.start_frame <= f <= ev.end_frame and e.error is None and self.session.is_flagged(e):
                    x = self._x(f)
                    p.fillRect(QRectF(x - w / 2, track.top(), w, track.height()), color)
            mx = self._x(ev.peak_frame if ev.peak_frame is not None else ev.start_frame)
            p.setPen(QPen(color.darker(150), 1))
            p.setBrush(color)
            p.drawEllipse(QPointF(mx, track.top() - 7), 5, 5)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        # Frame scale and the current frame.
        p.setPen(self.palette().text().color())
        fm = self.fontMetrics()
        ly = int(track.bottom()) + 2
        p.drawText(QRect(6, ly, 200, fm.height()), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                   "frame 0")
        last = self.entries[-1].result
        end_txt = f"frame {span}" + (f" · {last.time_s:.1f} s" if last.time_s is not None else "")
        tw = fm.horizontalAdvance(end_txt) + 2
        p.drawText(QRect(self.width() - 6 - tw, ly, tw, fm.height()),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, end_txt)
        if self.current is not None and self.current.result.frame is not None:
            x = self._x(self.current.result.frame)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(QPen(QColor("#ffffff"), 3))
            p.drawLine(QPointF(x, track.top()), QPointF(x, track.bottom()))
            p.setPen(QPen(self.palette().highlight().color(), 1.5))
            p.drawLine(QPointF(x, track.top()), QPointF(x, track.bottom()))
            cur = self.current.result
            label = f"frame {cur.frame}" + (f" · {cur.time_s:.2f} s" if cur.time_s is not None else "")
            lw = fm.horizontalAdvance(label) + 8
            lx = max(6.0, min(x - lw / 2, self.width() - 6 - lw))
            p.fillRect(QRectF(lx, ly, lw, fm.height()), self.palette().window())  # over the scale's ends
            p.setPen(self.palette().highlight().color())
            p.drawText(QRectF(lx, ly, lw, fm.height()), Qt.AlignmentFlag.AlignCenter, label)

"""The desktop application (PySide6). Only this package imports Qt.

``artifactscope.gui.app.main(paths)`` opens the window; :mod:`artifactscope.gui.session` holds the state as
plain Python (tested without a display); :mod:`~artifactscope.gui.workers` runs scans and image loading off
the GUI thread; :mod:`~artifactscope.gui.widgets` and :mod:`~artifactscope.gui.main_window` are the views.
"""

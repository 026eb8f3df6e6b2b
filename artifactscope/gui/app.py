"""Entry point of the desktop application: ``artifactscope gui [PATH...]``."""

from __future__ import annotations

import sys


def main(paths: list[str]) -> int:
    """Open the main window, start scanning `paths` (if any), and run until the window closes.

    Returns
    -------
    int
        The process exit status (0 on a normal close; 2 when Qt cannot start, e.g. no display).
    """
    try:
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:
        print(f"artifactscope gui: PySide6 is not installed ({exc}); install it with "
              "`pip install 'PySide6-Essentials<6.12'`", file=sys.stderr)
        return 2
    from artifactscope.gui.main_window import APPLICATION, ORGANISATION, MainWindow

    app = QApplication.instance()
    owns_app = app is None
    if owns_app:
        app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    window = MainWindow()
    window.show()
    if paths:
        window.open_paths(list(paths))
    if not owns_app:
        return 0
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""House rules: the core never imports Qt; model files are never loaded with pickle or joblib."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "artifactscope"
CORE_FILES = [p for p in PACKAGE.rglob("*.py") if "gui" not in p.relative_to(PACKAGE).parts]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_modules_do_not_import_qt():
    offenders = {str(p.relative_to(PACKAGE)): sorted(_imports(p) & {"PySide6", "PyQt5", "PyQt6", "qtpy", "superqt"})
                 for p in CORE_FILES}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_core_loads_no_qt():
    modules = sorted({"artifactscope." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts)
                      .replace(".__init__", "") for p in CORE_FILES} - {"artifactscope.__main__"})
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'PyQt'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_pickle_or_joblib_load_of_model_files():
    calls = []
    for path in CORE_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if isinstance(owner, ast.Name) and owner.id in {"pickle", "joblib", "cloudpickle", "dill"} \
                        and node.func.attr in {"load", "loads"}:
                    calls.append(f"{path.name}:{node.lineno}")
                for kw in node.keywords:
                    if kw.arg == "allow_pickle" and getattr(kw.value, "value", False) is True:
                        calls.append(f"{path.name}:{node.lineno} allow_pickle=True")
    assert calls == []

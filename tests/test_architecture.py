"""The layout is the architecture: no module imports upward, the core imports nothing from the
modalities, and the torch-free path (modality packages, recipes, model card, verify) never imports torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "siamcli"

# Lowest first. A module may import from its own layer and the layers below it, never from above.
LAYERS = [
    ("siamcli.errors", "siamcli.files", "siamcli.cpus", "siamcli.core", "siamcli.inference"),  # ONNX: checked, run
    ("siamcli.modalities", "siamcli.data"),
    ("siamcli.trainconfig", "siamcli.recipes", "siamcli.modelcard"),
    (
        "siamcli.gallery",
        "siamcli.modelfile",
        "siamcli.models",
        "siamcli.training",
        "siamcli.liveness_training",
        "siamcli.distributed",
    ),
    ("siamcli.model",),
    ("siamcli.evaluation", "siamcli.report"),
    ("siamcli.usecases",),
    ("siamcli.cli", "siamcli.__main__", "siamcli"),
]


def layer_of(module: str) -> int:
    for rank in range(len(LAYERS) - 1, -1, -1):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in LAYERS[rank] if prefix != "siamcli"):
            return rank
    return len(LAYERS) - 1  # the package itself: the Python API


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def siamcli_imports(path: Path) -> list[str]:
    """Every siamcli module `path` imports, at the top or inside a function; the version excepted."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "siamcli":
            if node.module == "siamcli" and [a.name for a in node.names] == ["__version__"]:
                continue
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "siamcli"]
    return found


def test_no_module_imports_upward() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        upward += [f"{name} -> {target}" for target in siamcli_imports(path) if layer_of(target) > layer_of(name)]
    assert upward == []


def test_the_core_imports_only_the_core() -> None:
    outside = [
        f"{path.name} -> {target}"
        for path in sorted((PACKAGE / "core").rglob("*.py"))
        for target in siamcli_imports(path)
        if not target.startswith("siamcli.core")
    ]
    assert outside == []


def test_every_modality_is_a_package_with_its_parts() -> None:
    for name in ("image", "audio"):
        folder = PACKAGE / "modalities" / name
        assert {"__init__.py", "settings.py", "augment.py", "encoders.py"} <= {p.name for p in folder.iterdir()}


def test_the_torch_free_path_never_imports_torch() -> None:
    code = (
        "import sys, siamcli.modalities, siamcli.recipes, siamcli.modelcard, siamcli.usecases.verify, "
        "siamcli.usecases.evaluate, siamcli.usecases.calibrate, siamcli.cli; "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

"""Every package under fastnn/ is listed in pyproject.toml, so a non-editable install (the
wheel, the debug and sanitizer builds) carries it: fastnn.distributions and fastnn.linalg
were missing from the list once, and `import fastnn` failed in the installed copy only."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_package_is_listed_in_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    listed = set(re.findall(r'"(fastnn[\w.]*)"', text.split("packages = [", 1)[1].split("]")[0]))
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "fastnn").rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)

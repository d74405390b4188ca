"""The lock files agree with the pins people edit: a pin changed without `make lock` fails here."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements"
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", re.M)


def _pins(path: Path) -> dict[str, str]:
    return {name.lower().replace("_", "-"): version for name, version in PIN.findall(path.read_text())}


@pytest.mark.parametrize("name", ["base", "dev"])
def test_every_pin_is_locked_at_its_version_with_hashes(name: str) -> None:
    pins = _pins(REQUIREMENTS / f"{name}.txt")
    if name == "dev":
        pins |= _pins(REQUIREMENTS / "base.txt")
    lock_text = (REQUIREMENTS / f"{name}.lock").read_text()
    locked = _pins(REQUIREMENTS / f"{name}.lock")
    assert pins, "no pins read"
    assert {package: locked.get(package) for package in pins} == pins
    for package, version in locked.items():  # every locked package carries its hashes
        block = lock_text.split(f"{package}=={version}", 1)[1].split("\n\n", 1)[0]
        assert "--hash=sha256:" in block.split("\n", 2)[1], package

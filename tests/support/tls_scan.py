"""sslyze's Mozilla TLS configuration check against a TLS endpoint on 127.0.0.1.

sslyze runs from its own venv (``$MC_STATE/tools/tls-scan``, made by tools/bootstrap/venv.sh from
tools/tls-scan/requirements.txt) because it pins an older cryptography than the project."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def sslyze_python() -> Path:
    state = Path(os.environ.get("MC_STATE", REPO_ROOT / ".state"))
    python = state / "tools" / "tls-scan" / "bin" / "python"
    if not python.exists():
        raise FileNotFoundError(f"sslyze is not installed at {python}: run tools/bootstrap/venv.sh")
    return python


@dataclass
class MozillaCheck:
    """The outcome of ``sslyze --mozilla_config=<profile>``: compliant, and the problems it named."""

    compliant: bool
    problems: list[str]
    output: str

    def sentence(self, target: str, profile: str) -> str:
        if self.compliant:
            return f"{target} complies with Mozilla's {profile!r} TLS configuration"
        return f"{target} does not comply with Mozilla's {profile!r} TLS configuration: " + "; ".join(self.problems)


def mozilla_check(port: int, ca_file: Path, server_name: str, profile: str = "intermediate",
                  timeout_s: float = 180.0) -> MozillaCheck:
    """Scan ``server_name`` at 127.0.0.1:``port`` (certificate path validated with ``ca_file``)."""
    target = f"{server_name}:{port}{{127.0.0.1}}"
    proc = subprocess.run([str(sslyze_python()), "-m", "sslyze", f"--mozilla_config={profile}",
                           f"--certinfo_ca_file={ca_file}", target],
                          capture_output=True, text=True, timeout=timeout_s)
    out = proc.stdout + proc.stderr
    _, _, compliance = out.partition("COMPLIANCE AGAINST")
    if not compliance:
        raise RuntimeError(f"sslyze did not check compliance (exit {proc.returncode}):\n{out[-3000:]}")
    problems = [line.strip()[2:] for line in compliance.splitlines() if line.strip().startswith("* ")]
    compliant = "OK - Compliant" in compliance and proc.returncode == 0
    return MozillaCheck(compliant, problems, out)

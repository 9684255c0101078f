"""The counter behind the adversarial suite's summary line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Category = Literal["verdict", "bound", "traceback", "contract"]

#: Human names of the categories, in the order of the summary line.
CATEGORY_NAMES: dict[str, str] = {
    "verdict": "false verdicts",
    "bound": "mislabelled bounds",
    "traceback": "raw tracebacks",
    "contract": "other contract violations",
}


@dataclass(frozen=True)
class Finding:
    """One thing an attack got wrong: its category, the attack's name and what happened."""

    category: Category
    attack: str
    detail: str


@dataclass
class Collector:
    """Counts attacks and findings: ``attacks`` tried, ``findings`` per category."""

    attacks: int = 0
    findings: list[Finding] = field(default_factory=list, repr=False)

    def attack(self, name: str, problems: list[tuple[Category, str]]) -> list[Finding]:
        """Record one attack and the findings it produced; returns these findings."""
        self.attacks += 1
        found = [Finding(category, name, detail) for category, detail in problems]
        self.findings.extend(found)
        return found

    def count(self, category: Category) -> int:
        """Number of findings of ``category``."""
        return sum(1 for finding in self.findings if finding.category == category)

    def summary_line(self) -> str:
        """``adversarial: attacks tried N, false verdicts A, mislabelled bounds B, raw tracebacks C``."""
        return (
            f"adversarial: attacks tried {self.attacks}, "
            f"false verdicts {self.count('verdict')}, "
            f"mislabelled bounds {self.count('bound')}, "
            f"raw tracebacks {self.count('traceback')}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready counts and findings."""
        return {
            "attacks": self.attacks,
            **{name.replace(" ", "_"): self.count(key) for key, name in CATEGORY_NAMES.items()},  # type: ignore[arg-type]
            "findings": [
                {"category": f.category, "attack": f.attack, "detail": f.detail}
                for f in self.findings
            ],
        }


#: The one collector of a pytest process.
COLLECTOR = Collector()


def describe(findings: list[Finding]) -> str:
    """Findings as lines, for assertion messages."""
    return "\n".join(f"[{f.category}] {f.attack}: {f.detail}" for f in findings)

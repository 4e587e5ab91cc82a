"""Update migration, run by Copier in the project after every `copier update`.

`.env` belongs to the project and is never rewritten by an update. When the new
template version, or a newly chosen feature, needs settings that `.env` lacks
(turning MFA on needs ENCRYPTION_KEYS, for instance, and the service refuses to
start without it), they are appended from `.env.example`, each placeholder
replaced by a fresh secret. Existing lines, values and comments stay as they are.
Nothing is printed but the names of the settings added.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from env_file import fill, settings_of


def main() -> None:
    project = Path.cwd()
    example = project / ".env.example"
    env_file = project / ".env"
    if not example.exists() or not env_file.exists():
        # A deployment that keeps its settings elsewhere has no .env to complete.
        return
    current = env_file.read_text(encoding="utf-8")
    added = fill(example.read_text(encoding="utf-8"), settings_of(current), only_missing=True)
    if not added:
        return
    version = os.environ.get("VERSION_PEP440_TO") or os.environ.get("VERSION_TO", "")
    stamp = datetime.now(UTC).date().isoformat()
    block = [f"# Added by copier update to {version} on {stamp}, from .env.example:", *added]
    separator = "" if current.endswith("\n") or not current else "\n"
    with env_file.open("a", encoding="utf-8") as handle:
        handle.write(separator + "\n".join(block) + "\n")
    env_file.chmod(0o600)
    names = [line.partition("=")[0] for line in added if not line.startswith("#")]
    print(f"  .env: added {', '.join(names)}")


if __name__ == "__main__":
    main()

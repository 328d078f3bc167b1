"""Build hook: ship the repository's ``config/`` inside the package as ``advisor/config/``.

``config/`` stays the single, hand-kept source of the committed defaults; a wheel (and a
non-editable install) gets a copy made at build time, which ``advisor/settings.py`` reads when
there is no checkout around it. An editable install reads the checkout's ``config/`` directly,
so nothing is copied then. All other metadata is in ``pyproject.toml``.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CONFIG_SOURCE = Path(__file__).resolve().parent / "config"


class BuildWithConfig(build_py):
    """``build_py`` that also copies ``config/*.toml`` to ``advisor/config/``."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "advisor" / "config"
        self.mkpath(str(target))
        for source in sorted(CONFIG_SOURCE.glob("*.toml")):
            self.copy_file(str(source), str(target / source.name))


setup(cmdclass={"build_py": BuildWithConfig})
